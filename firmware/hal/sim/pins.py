"""Simulated GPIO: levels the host drives and reads, with output history.

A pin's level is worked out from, in order of precedence:
  1. a stuck-at fault (`stuck`), which wins over everything;
  2. the pin's own output latch, when the firmware made it an output;
  3. a wire from another pin (`wire(src, dst)`, test wiring / loopback);
  4. the level the host drives onto it (`drive`);
  5. its pull resistor (up = 1, down or none = 0).
(drive, stuck, wire and history() are in hal.sim.world: host/test only.)
Whenever a pin's level changes, update() runs the consequences: an output
change goes into the history ring (and so to the host), an input edge the
firmware asked for posts its notification bits, a chip-select change tells
the SPI device on it, and wired pins follow.

Invariants:
- All state lives in preallocated bytearrays/arrays sized NPINS; update()
  and everything it calls allocate nothing (checked by a heap-lock test).
- The history ring keeps the last HIST_LEN output changes; `hist_n` counts
  every change ever made, so a reader knows how many it missed.
"""

from array import array

from keep.irq import post
from micropython import const
from time import ticks_us

from hal import FALLING, OUT, PULL_UP, RISING

# public as world.NPINS, world.NONE, world.HIST_LEN (host and tests)
_NPINS = const(48)
_NONE = const(0xFF)  # "not set" in the per-pin byte tables
_HIST_LEN = const(64)

pmode = bytearray(_NPINS)  # hal.IN / hal.OUT
ppull = bytearray(_NPINS)
latch = bytearray(_NPINS)  # output latch
drive = bytearray(b"\xff" * _NPINS)  # host-driven level or _NONE
stuck = bytearray(b"\xff" * _NPINS)  # stuck-at level or _NONE
wire_src = bytearray(b"\xff" * _NPINS)  # pin this one is wired from, or _NONE
fanout = bytearray(_NPINS)  # number of pins wired from this one
level = bytearray(_NPINS)  # effective level, what value() reads
edge_mask = bytearray(_NPINS)  # RISING|FALLING the firmware listens for
irq_slot = bytearray(_NPINS)
irq_bits = array("I", bytes(4 * _NPINS))
cs_dev = bytearray(_NPINS)  # 1 + index into spi.devices, 0 = none
# history: pin << 1 | level, and ticks_us of the change
hist_pl = array("H", bytes(2 * _HIST_LEN))
hist_t = array("I", bytes(4 * _HIST_LEN))
hist_n = array("I", [0])  # changes recorded so far (the ring index is n % _HIST_LEN)

_cs_hook = None  # set by hal.sim.spi: called as hook(dev_index, level)


def update(p):
    """Recompute pin p's level and run the consequences of a change."""
    v = stuck[p]
    if v == _NONE:
        if pmode[p] == OUT:
            v = latch[p]
        else:
            v = wire_src[p]
            if v != _NONE:
                v = level[v]
            else:
                v = drive[p]
                if v == _NONE:
                    v = 1 if ppull[p] == PULL_UP else 0
    if v == level[p]:
        return
    level[p] = v
    if pmode[p] == OUT:
        n = hist_n[0]
        i = n % _HIST_LEN
        hist_pl[i] = p << 1 | v
        hist_t[i] = ticks_us()
        hist_n[0] = n + 1
    elif edge_mask[p] & (RISING if v else FALLING):
        post(irq_slot[p], irq_bits[p])
    d = cs_dev[p]
    if d:
        _cs_hook(d - 1, v)
    if fanout[p]:
        for q in range(_NPINS):
            if wire_src[q] == p:
                update(q)


class Pin:
    """hal Pin on the simulated GPIO block."""

    def __init__(self, num, mode, pull=None, value=None):
        if not 0 <= num < _NPINS:
            raise ValueError("sim pin out of range")
        self.num = num
        pmode[num] = mode
        ppull[num] = pull or 0
        if value is not None:
            latch[num] = 1 if value else 0
        update(num)

    def value(self, v=None):
        p = self.num
        if v is None:
            return level[p]
        latch[p] = 1 if v else 0
        update(p)

    def toggle(self):
        p = self.num
        latch[p] ^= 1
        update(p)

    def irq(self, slot, bits=0, edges=3):
        p = self.num
        if slot is None:
            edge_mask[p] = 0
            return
        irq_slot[p] = slot
        irq_bits[p] = bits
        edge_mask[p] = edges

    def deinit(self):
        p = self.num
        edge_mask[p] = 0
        pmode[p] = 0
        ppull[p] = 0
        update(p)
