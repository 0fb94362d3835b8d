# Simulated GPIO: levels, pulls, host drive, stuck faults, wiring, edges -> irq bits,
# output history with timestamps.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("tests the simulated GPIO itself (host drive, stuck pins, wires, history)")

import hal
from hal.sim import pins, world
from keep import irq

h = hal.load()
print(h.NAME, hal.load("sim") is h)
try:
    hal.load("bogus")
except ValueError as e:
    print("ValueError", e)

# pulls and host drive
a = h.Pin(4, hal.IN, pull=hal.PULL_UP)
b = h.Pin(7, hal.IN)
print("pull", a.value(), b.value())
world.drive(4, 0)
world.drive(7, 1)
print("driven", a.value(), b.value())
world.drive(4, None)
print("released", a.value())

# edges -> notification bits, only for the edges asked for
a.irq(3, 1 << 4, hal.FALLING)
irq.take(3)
world.drive(4, 0)
print("falling", irq.take(3))
world.drive(4, 1)
print("rising ignored", irq.take(3))
a.irq(3, 1 << 5, edges=hal.BOTH)
world.drive(4, 0)
world.drive(4, 0)  # no change, no edge
print("both", irq.take(3), irq.flag[0])
world.drive(4, 1)
print("both rising", irq.take(3))
a.irq(None)
world.drive(4, 0)
print("disabled", irq.take(3))

# outputs, toggle, history with timestamps
o = h.Pin(6, hal.OUT, value=1)
o.value(0)
o.toggle()
o.toggle()
ch = world.history(6)
print("history", [(p, v) for p, v, t in ch])
print("timestamps ordered", all(h.ticks_diff(ch[i + 1][2], ch[i][2]) >= 0 for i in range(len(ch) - 1)))
o.value(0)
print("no change no record", len(world.history(6)))

# stuck-at faults win over the latch and over the host
world.stuck(6, 1)
o.value(0)
print("stuck out", o.value())
world.stuck(6, None)
print("unstuck out", o.value())
world.stuck(4, 1)
world.drive(4, 0)
print("stuck in", a.value())
world.stuck(4, None)
print("unstuck in", a.value())

# wiring: an output drives an input, and its edges interrupt
b.irq(9, 1 << 1, hal.RISING)
world.wire(6, 7)
world.drive(7, None)
print("wired", b.value())
o.value(1)
print("wired follow", b.value(), irq.take(9))
world.wire(None, 7)
print("unwired", b.value())

# the history ring keeps the last HIST_LEN changes and counts them all
n0 = pins.wtab[world.HIST_N]
for i in range(world.HIST_LEN + 10):
    o.toggle()
print("ring", len(world.history()), pins.wtab[world.HIST_N] - n0)

# deinit turns the pin back into an unpulled input
a.deinit()
print("deinit", a.value())
try:
    h.Pin(99, hal.IN)
except ValueError as e:
    print("ValueError", e)
