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

Invariants:
- write() in LOOP/HOST mode, readinto() and the RX notification allocate
  nothing (heap-lock test); BRIDGE writes go through the socket and may.
- The RX ring never grows: bytes that do not fit are dropped and counted
  in `overruns`, like a real UART's FIFO overflow.
"""

from array import array

from keep.irq import post
from micropython import const

NUARTS = const(4)
# line modes and noise kinds; hal.sim.world has the public names (world.HOST, ...)
_LOOP = const(0)
_HOST = const(1)
_FLIP = const(0)
TXCAP = const(256)  # bytes of TX kept for the host per HOST-mode line

line_mode = bytearray(NUARTS)
noise_rate = array("I", bytes(4 * NUARTS))  # per 65536 bytes
noise_kind = bytearray(NUARTS)
_rng = array("I", [0x2545F491])
uarts = [None] * NUARTS  # the open UART object of each id
_txcap = [None] * NUARTS  # HOST mode: bytearray ring of TX for the host
_txcap_len = array("I", bytes(4 * NUARTS))
_bridge = [None] * NUARTS  # BRIDGE mode: socket
_bbuf = bytearray(64)


def _rand():
    x = _rng[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    _rng[0] = x
    return x


def poll():
    """Move bridged bytes in, and re-post RX notifications while data waits."""
    for uid in range(NUARTS):
        u = uarts[uid]
        if u is None:
            continue
        s = _bridge[uid]
        if s is not None:
            try:
                n = s.readinto(_bbuf)
            except OSError:
                n = None
            if n:
                for i in range(n):
                    u._rx_put(_bbuf[i])
        if u._cnt and u._slot >= 0:
            post(u._slot, u._bits)


class UART:
    """hal UART on a simulated line."""

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1,
                 tx=None, rx=None, rxbuf=256):
        if not 0 <= id < NUARTS:
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
        rate = noise_rate[uid]
        extra = -1
        if rate and (_rand() & 0xFFFF) < rate:
            if noise_kind[uid] == _FLIP:
                b ^= 1 << (_rand() & 7)
            else:
                extra = _rand() & 0xFF
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
        mode = line_mode[self.id]
        if mode == _LOOP:
            for i in range(n):
                self._rx_put(buf[i])
        elif mode == _HOST:
            cap = _txcap[self.id]
            k = _txcap_len[self.id]
            for i in range(n):
                if k < TXCAP:
                    cap[k] = buf[i]
                    k += 1
            _txcap_len[self.id] = k
        else:
            s = _bridge[self.id]
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
