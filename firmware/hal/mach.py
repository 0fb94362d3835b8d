# Declared hot path (docs/performance.md, "Rules"): poll(), run on every
# kernel tick. MicroPython speed and RAM tricks are allowed there, each under
# one of those rules; the rest of this module is plain code.
"""The HAL over MicroPython's documented `machine` API (shared by esp32, rp2).

hal.esp32 and hal.rp2 are this module plus each port's limits; the unix
port cannot run it, so tests load it with a fake `machine` module.

Invariants:
- Pin edge handlers are hard IRQs (`hard=True`): they only call
  keep.irq.post with ints stored at setup time, so they never allocate.
- UART RX notifications are *polled*, not interrupt-driven: poll() (called
  from the kernel tick and idle loop) posts the registered bits while
  `any()` > 0. Why: ESP32's UART.irq only runs soft (scheduled) handlers and
  the RP2040 has no per-character IRQ_RX, only IRQ_RXIDLE; one polled path
  behaves the same on both and needs no handler at all. The UART's own
  `rxbuf` (filled by the port's interrupt) holds bytes between polls.
- Nothing here blocks: UARTs are opened with timeout=0, so readinto returns
  what is there (0 when nothing, never None).
"""

import time

import machine
from keep.irq import post
from micropython import const

from hal import (BOTH, DEEPSLEEP_RESET, FALLING, HARD_RESET, OUT, PULL_DOWN, PULL_UP,
                 PWRON_RESET, RISING, SOFT_RESET, UNKNOWN_RESET, WDT_RESET)

_MAX_WATCH = const(4)  # UARTs that may ask for RX notifications at once

ticks_ms = time.ticks_ms
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add
sleep_ms = time.sleep_ms


def _mpin(num):
    return None if num is None else machine.Pin(num)


def _pull(pull):
    if pull == PULL_UP:
        return machine.Pin.PULL_UP
    if pull == PULL_DOWN:
        return machine.Pin.PULL_DOWN
    return None


class Pin:
    """One GPIO. `_v` shadows the output level so toggle() needs no read."""

    def __init__(self, num, mode, pull=None, value=None):
        self.num = num
        self.mode = mode
        self._slot = 0
        self._bits = 0
        self._v = 1 if value else 0
        if mode == OUT:
            self._p = machine.Pin(num, machine.Pin.OUT, _pull(pull), value=self._v)
        else:
            self._p = machine.Pin(num, machine.Pin.IN, _pull(pull))

    def value(self, v=None):
        if v is None:
            return self._p.value()
        self._v = 1 if v else 0
        self._p.value(self._v)

    def toggle(self):
        self._v ^= 1
        self._p.value(self._v)

    def irq(self, slot, bits=0, edges=BOTH):
        """Edge interrupt -> keep.irq.post(slot, bits); slot None disables."""
        if slot is None:
            self._p.irq(handler=None)
            return
        self._slot = slot
        self._bits = bits
        trig = 0
        if edges & RISING:
            trig |= machine.Pin.IRQ_RISING
        if edges & FALLING:
            trig |= machine.Pin.IRQ_FALLING
        self._p.irq(handler=self._isr, trigger=trig, hard=True)

    def _isr(self, _p):
        # Hard IRQ context: attribute loads and post() only.
        post(self._slot, self._bits)

    def deinit(self):
        self._p.irq(handler=None)
        self._p.init(machine.Pin.IN)  # release the pad: input, no pull


_watch = [None] * _MAX_WATCH


class UART:
    """A hardware UART, non-blocking, with a polled RX notification."""

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1,
                 tx=None, rx=None, rxbuf=256):
        self.id = id
        self.baudrate = baudrate
        self.bits = bits
        self.parity = parity
        self.stop = stop
        self._slot = -1
        self._bits = 0
        kw = {"baudrate": baudrate, "bits": bits, "parity": parity, "stop": stop,
              "rxbuf": rxbuf, "timeout": 0, "timeout_char": 0}
        if tx is not None:
            kw["tx"] = _mpin(tx)
        if rx is not None:
            kw["rx"] = _mpin(rx)
        self._u = machine.UART(id, **kw)

    def init(self, baudrate=None, bits=None, parity=-1, stop=None):
        """Change speed or format; arguments left out keep their value."""
        if baudrate is not None:
            self.baudrate = baudrate
        if bits is not None:
            self.bits = bits
        if parity != -1:
            self.parity = parity
        if stop is not None:
            self.stop = stop
        self._u.init(baudrate=self.baudrate, bits=self.bits, parity=self.parity,
                     stop=self.stop, timeout=0, timeout_char=0)

    def write(self, buf):
        n = self._u.write(buf)
        return 0 if n is None else n

    def readinto(self, buf, n=None):
        r = self._u.readinto(buf, len(buf) if n is None else n)
        return 0 if r is None else r

    def any(self):
        return self._u.any()

    def notify(self, slot, bits):
        """Post `bits` to task `slot` while RX data waits (slot None: stop).
        A UART opened again on the same id (a restarted server's) takes the
        old object's place: that one is dead with the task that opened it."""
        for i in range(_MAX_WATCH):
            w = _watch[i]
            if w is self or (w is not None and w.id == self.id):
                _watch[i] = None
        if slot is None:
            return
        self._slot = slot
        self._bits = bits
        for i in range(_MAX_WATCH):
            if _watch[i] is None:
                _watch[i] = self
                return
        raise OSError("hal: too many UARTs with notify")

    def deinit(self):
        self.notify(None, 0)
        self._u.deinit()


class SPI:
    """A hardware SPI bus (mode 0..3, MSB first, 8-bit words)."""

    def __init__(self, bus, baudrate=1000000, polarity=0, phase=0,
                 sck=None, mosi=None, miso=None):
        self.bus = bus
        kw = {"baudrate": baudrate, "polarity": polarity, "phase": phase}
        if sck is not None:
            kw["sck"] = _mpin(sck)
        if mosi is not None:
            kw["mosi"] = _mpin(mosi)
        if miso is not None:
            kw["miso"] = _mpin(miso)
        self._s = machine.SPI(bus, **kw)

    def init(self, baudrate=None, polarity=None, phase=None):
        kw = {}
        if baudrate is not None:
            kw["baudrate"] = baudrate
        if polarity is not None:
            kw["polarity"] = polarity
        if phase is not None:
            kw["phase"] = phase
        self._s.init(**kw)

    def write(self, buf):
        self._s.write(buf)

    def readinto(self, buf, fill=0xFF):
        self._s.readinto(buf, fill)

    def write_readinto(self, wbuf, rbuf):
        self._s.write_readinto(wbuf, rbuf)

    def deinit(self):
        self._s.deinit()


class WDT:
    """Hardware watchdog; once started it cannot be stopped on either port.

    The requested timeout is clamped to the port's range [MIN_MS, MAX_MS];
    `timeout_ms` says what was actually set.
    """

    MIN_MS = 1
    MAX_MS = 0x3FFFFFFF

    def __init__(self, timeout_ms):
        t = timeout_ms
        if t < self.MIN_MS:
            t = self.MIN_MS
        if t > self.MAX_MS:
            t = self.MAX_MS
        self.timeout_ms = t
        self._w = machine.WDT(timeout=t)

    def feed(self):
        self._w.feed()


# machine's reset-cause constants differ per port; map the ones it has.
_CAUSES = []
for _name, _ours in (("PWRON_RESET", PWRON_RESET), ("HARD_RESET", HARD_RESET),
                     ("WDT_RESET", WDT_RESET), ("DEEPSLEEP_RESET", DEEPSLEEP_RESET),
                     ("SOFT_RESET", SOFT_RESET)):
    _v = getattr(machine, _name, None)
    if _v is not None:
        _CAUSES.append((_v, _ours))


def reset_cause():
    c = machine.reset_cause()
    for v, ours in _CAUSES:
        if v == c:
            return ours
    return UNKNOWN_RESET


def reset():
    machine.reset()


def idle():
    machine.idle()


def poll():
    """Kernel tick / idle: post RX notifications of UARTs holding data."""
    for u in _watch:
        if u is not None and u._u.any():
            post(u._slot, u._bits)
