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

All state is two preallocated tables, not one object per table (each
bytearray or array costs a header, a rounded-up data block and a module
dict slot; twelve of them cost ~1 KB more than two):
  tab   bytes: one NPINS-long row per per-pin table, then the history
        ring's pin << 1 | level bytes; pin p's level is tab[_LEVEL + p]
  wtab  32-bit words: each pin's irq bits, the history ring's ticks_us,
        and the count of output changes ever made
The row offsets are public in hal.sim.world (world.LEVEL, ...), which the
host and tests use.

Invariants:
- update() and everything it calls allocate nothing (heap-lock test).
- The history ring keeps the last HIST_LEN output changes; the count
  (wtab[_HIST_N]) counts every change ever made, so a reader knows how
  many it missed.
"""

from array import array

from keep.irq import post
from micropython import const
from time import ticks_us

_NPINS = const(48)  # public as world.NPINS, world.NONE, world.HIST_LEN
_NONE = const(0xFF)  # "not set" in the per-pin rows
_HIST_LEN = const(64)
_OUT = const(1)  # hal.OUT
_PULL_UP = const(1)  # hal.PULL_UP
_RISING = const(1)  # hal.RISING
_FALLING = const(2)  # hal.FALLING

# rows of tab (= world.MODE, ...)
_MODE = const(0)  # the mode the firmware set: IN / OUT
_PULL = const(1 * _NPINS)
_LATCH = const(2 * _NPINS)  # output latch
_DRIVE = const(3 * _NPINS)  # host-driven level or _NONE
_STUCK = const(4 * _NPINS)  # stuck-at level or _NONE
_WSRC = const(5 * _NPINS)  # pin this one is wired from, or _NONE
_FANOUT = const(6 * _NPINS)  # number of pins wired from this one
_LEVEL = const(7 * _NPINS)  # effective level, what value() reads
_EDGE = const(8 * _NPINS)  # RISING|FALLING the firmware listens for
_SLOT = const(9 * _NPINS)  # irq slot
_CS = const(10 * _NPINS)  # 1 + index into spi.devices, 0 = none
_HIST = const(11 * _NPINS)  # history ring: pin << 1 | level
_TAB = const(11 * _NPINS + _HIST_LEN)
# words of wtab (= world.BITS, ...)
_BITS = const(0)  # irq bits per pin
_HIST_T = const(_NPINS)  # history ring: ticks_us of the change
_HIST_N = const(_NPINS + _HIST_LEN)  # changes recorded so far (ring index = n % _HIST_LEN)

tab = bytearray(_TAB)
tab[_DRIVE:_FANOUT] = b"\xff" * (_FANOUT - _DRIVE)  # drive, stuck, wire source: _NONE
wtab = array("I", bytes(4 * (_HIST_N + 1)))

_cs_hook = None  # set by hal.sim.spi: called as hook(dev_index, level)


def update(p):
    """Recompute pin p's level and run the consequences of a change."""
    t = tab
    v = t[_STUCK + p]
    if v == _NONE:
        if t[_MODE + p] == _OUT:
            v = t[_LATCH + p]
        else:
            v = t[_WSRC + p]
            if v != _NONE:
                v = t[_LEVEL + v]
            else:
                v = t[_DRIVE + p]
                if v == _NONE:
                    v = 1 if t[_PULL + p] == _PULL_UP else 0
    if v == t[_LEVEL + p]:
        return
    t[_LEVEL + p] = v
    if t[_MODE + p] == _OUT:
        w = wtab
        n = w[_HIST_N]
        i = n % _HIST_LEN
        t[_HIST + i] = p << 1 | v
        w[_HIST_T + i] = ticks_us()
        w[_HIST_N] = n + 1
    elif t[_EDGE + p] & (_RISING if v else _FALLING):
        post(t[_SLOT + p], wtab[_BITS + p])
    d = t[_CS + p]
    if d:
        _cs_hook(d - 1, v)
    if t[_FANOUT + p]:
        for q in range(_NPINS):
            if t[_WSRC + q] == p:
                update(q)


class Pin:
    """hal Pin on the simulated GPIO block."""

    def __init__(self, num, mode, pull=None, value=None):
        if not 0 <= num < _NPINS:
            raise ValueError("sim pin out of range")
        self.num = num
        tab[_MODE + num] = mode
        tab[_PULL + num] = pull or 0
        if value is not None:
            tab[_LATCH + num] = 1 if value else 0
        update(num)

    def value(self, v=None):
        p = self.num
        if v is None:
            return tab[_LEVEL + p]
        tab[_LATCH + p] = 1 if v else 0
        update(p)

    def toggle(self):
        p = self.num
        tab[_LATCH + p] ^= 1
        update(p)

    def irq(self, slot, bits=0, edges=3):
        p = self.num
        if slot is None:
            tab[_EDGE + p] = 0
            return
        tab[_SLOT + p] = slot
        wtab[_BITS + p] = bits
        tab[_EDGE + p] = edges

    def deinit(self):
        p = self.num
        tab[_EDGE + p] = 0
        tab[_MODE + p] = 0
        tab[_PULL + p] = 0
        update(p)
