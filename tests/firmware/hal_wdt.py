# Simulated watchdog and reset cause: feeding keeps it quiet, expiry records
# WDT_RESET (with the culprit) for the next boot, reset() records SOFT_RESET.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("tests the simulated watchdog and its reset-cause file")

import os

import hal
from hal.sim import wdt as sw
from hal.sim import world

os.putenv("KEEP_SIM_STATE_DIR", ".")
h = hal.load()

try:
    os.remove(world.CAUSE_FILE)
except OSError:
    pass
print("first boot", hal.RESET_NAMES[h.reset_cause()])

fired = []
sw.on_expire = fired.append  # observe instead of killing this process

w = h.WDT(50)
for i in range(10):
    h.sleep_ms(20)
    w.feed()
    h.poll()
print("fed", fired == [])
w.culprit = 4
t0 = h.ticks_ms()
while not fired and h.ticks_diff(h.ticks_ms(), t0) < 500:
    h.sleep_ms(5)  # no poll(): the watchdog thread fires by itself
print("fired by thread", fired == [w], h.ticks_diff(h.ticks_ms(), t0) >= 40)
with open(world.CAUSE_FILE) as f:
    print("cause file", f.read().strip())


def next_boot():
    sw._cause = None  # what a fresh process would see
    sw._culprit = 0xFF
    return hal.RESET_NAMES[h.reset_cause()], h.reset_culprit()


print("next boot", next_boot())
print("file consumed", world.CAUSE_FILE not in os.listdir())
print("boot after", next_boot())

# expiry found by poll() when no thread runs
fired.clear()
w2 = h.WDT(10, thread=False)
h.sleep_ms(20)
h.poll()
print("fired by poll", fired == [w2], next_boot()[0])

# reset(): SystemExit with the exit status the virtual board restarts on
try:
    h.reset()
except SystemExit as e:
    print("reset exit", e.args[0] == world.EXIT_RESET)
print("after reset", next_boot()[0])
sw._active = None
