# Declared hot path (docs/performance.md, "Rules"): poll(), run on every
# kernel tick. MicroPython speed and RAM tricks are allowed there, each under
# one of those rules; the rest of this module is plain code.
"""Simulated UARTs: loopback, host-attached, or bridged to a TCP socket.

Each UART id has a *line* whose setup outlives the UART object (the host
may configure it before the firmware opens the port, and a restarted uart
server reopens it):
  LOOP    TX bytes come back on RX (the default; a loopback plug)
  HOST    TX bytes are kept for the host (control op uart_read / events),
          RX bytes come from the host (uart_inject)
  BRIDGE  TX goes to a TCP socket the sim connected to; what the socket
          sends arrives on RX (poll() moves it)
Noise sits on the receive side of every line: at `rate` (per 65536 bytes)
a byte gets one random bit flipped (FLIP) or a random byte is inserted
after it (INSERT). The generator is a seeded xorshift, so a test run is
reproducible. Setting a line up (set_mode, set_noise) and playing the
host's side (inject, take_tx) are in hal.sim.world, loaded when used.

The lines' state is three preallocated tables rather than an object per
field (each costs a header, a rounded-up data block and a module dict
slot); hal.sim.world keeps copies of the offsets:
  lb   bytes: each line's mode, then its noise kind
  lw   32-bit words: each line's noise rate (per 65536 bytes), then the
       count of TX bytes kept for the host, then the noise generator's state
  io   objects: each HOST line's TX buffer, each BRIDGE line's socket,
       then the buffer bridged bytes are read into (made by set_mode)

Invariants:
- write() in LOOP/HOST mode, readinto() and the RX notification allocate
  nothing (heap-lock test); BRIDGE writes go through the socket and may.
- The RX ring never grows: bytes that do not fit are dropped and counted
  in `overruns`, like a real UART's FIFO overflow.
"""

from array import array

from keep.irq import post
from micropython import const

_NUARTS = const(4)  # public as world.NUARTS
_TXCAP = const(256)  # bytes of TX kept for the host per HOST-mode line
_LOOP = const(0)  # world.LOOP: line modes
_HOST = const(1)  # world.HOST
_FLIP = const(0)  # world.FLIP: noise kind
# offsets into lb, lw, io (hal.sim.world keeps copies)
_KIND = const(_NUARTS)  # lb: noise kind (mode at 0)
_TXLEN = const(_NUARTS)  # lw: TX bytes kept for the host (noise rate at 0)
_RNG = const(2 * _NUARTS)  # lw: xorshift32 state
_SOCK = const(_NUARTS)  # io: BRIDGE socket (HOST TX buffer at 0)
_BBUF = const(2 * _NUARTS)  # io: bytes read from a bridge socket

lb = bytearray(2 * _NUARTS)
lw = array("I", bytes(4 * (_RNG + 1)))
lw[_RNG] = 0x2545F491  # the noise generator's seed until world.set_noise gives one
io = [None] * (_BBUF + 1)
uarts = [None] * _NUARTS  # the open UART object of each id


def poll():
    """Move bridged bytes in, and re-post RX notifications while data waits.
    (Few locals: a frame over 11 words would be heap-allocated on every call
    of this per-tick function; the bridge's work is _bridge_in.)"""
    for u in uarts:
        if u is not None:
            if io[_SOCK + u.id] is not None:
                _bridge_in(u)
            if u._cnt and u._slot >= 0:
                post(u._slot, u._bits)


def _bridge_in(u):
    b = io[_BBUF]
    try:
        n = io[_SOCK + u.id].readinto(b)
    except OSError:
        n = None
    if n:
        for i in range(n):
            u._rx_put(b[i])


class UART:
    """hal UART on a simulated line."""

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1,
                 tx=None, rx=None, rxbuf=256):
        if not 0 <= id < _NUARTS:
            raise ValueError("sim uart id out of range")
        self.id = id
        self.baudrate = baudrate
        self.bits = bits
        self.parity = parity
        self.stop = stop
        self._rx = bytearray(rxbuf)
        self._head = 0  # next write position
        self._tail = 0  # next read position
        self._cnt = 0
        self.overruns = 0
        self._slot = -1
        self._bits = 0
        uarts[id] = self

    def init(self, baudrate=None, bits=None, parity=-1, stop=None):
        if baudrate is not None:
            self.baudrate = baudrate
        if bits is not None:
            self.bits = bits
        if parity != -1:
            self.parity = parity
        if stop is not None:
            self.stop = stop

    def _rx_put(self, b):
        uid = self.id
        rate = lw[uid]
        extra = -1
        if rate:
            x = lw[_RNG]  # xorshift32: one draw decides and, in its top bits, picks
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            lw[_RNG] = x
            if (x & 0xFFFF) < rate:
                if lb[_KIND + uid] == _FLIP:
                    b ^= 1 << (x >> 16 & 7)
                else:
                    extra = x >> 24
        size = len(self._rx)
        while b >= 0:  # b, then the inserted byte if any
            if self._cnt == size:
                self.overruns += 1
            else:
                self._rx[self._head] = b
                self._head = (self._head + 1) % size
                self._cnt += 1
            b = extra
            extra = -1
        if self._slot >= 0:
            post(self._slot, self._bits)

    def write(self, buf):
        n = len(buf)
        uid = self.id
        mode = lb[uid]
        if mode == _LOOP:
            for i in range(n):
                self._rx_put(buf[i])
        elif mode == _HOST:
            cap = io[uid]
            k = lw[_TXLEN + uid]
            for i in range(n):
                if k < _TXCAP:
                    cap[k] = buf[i]
                    k += 1
            lw[_TXLEN + uid] = k
        else:
            s = io[_SOCK + uid]
            if s is not None:
                s.setblocking(True)
                s.write(buf)
                s.setblocking(False)
        return n

    def readinto(self, buf, n=None):
        if n is None or n > len(buf):
            n = len(buf)
        if n > self._cnt:
            n = self._cnt
        rx = self._rx
        size = len(rx)
        t = self._tail
        for i in range(n):
            buf[i] = rx[t]
            t += 1
            if t == size:
                t = 0
        self._tail = t
        self._cnt -= n
        return n

    def any(self):
        return self._cnt

    def notify(self, slot, bits):
        if slot is None:
            self._slot = -1
            return
        self._slot = slot
        self._bits = bits
        if self._cnt:
            post(slot, bits)

    def deinit(self):
        self._slot = -1
        if uarts[self.id] is self:
            uarts[self.id] = None
