"""A 25-series SPI NOR flash model (W25Q-like), small enough for the sim.

Commands (first byte after CS falls; the effect happens when CS rises):
  0x9F  JEDEC id: manufacturer 0xEF, type 0x40, capacity log2(size)
  0x05  read status: bit 0 WIP (busy), bit 1 WEL (write enabled), repeated
  0x06  write enable (sets WEL)          0x04  write disable (clears WEL)
  0x03  read: 24-bit address, then data for as long as CS stays low;
        the address wraps at the end of the chip
  0x0B  fast read: like 0x03 with one dummy byte after the address
  0x02  page program: address, then up to 256 data bytes; bytes past the
        page end wrap to the page start (the last one sent wins); program
        only clears bits (new = old AND data)
  0x20  4 KB sector erase to 0xFF      0xC7 / 0x60  chip erase
Program and erase need WEL, then keep the chip busy (WIP=1) for prog_us /
erase_us of ticks_us; while busy every command but 0x05 is ignored and
MISO reads 0xFF; WEL clears when the operation completes.

Storage is a bytearray (path=None; costs `size` bytes of heap) or a file
in the board's flash directory read and written through one 256-byte
page buffer (costs ~300 bytes of heap, survives a reboot of the sim).
The chip's registers and timings are one small int array (`_r[_CMD]`,
...) rather than an instance attribute each: every attribute costs an
entry in the instance's member table.

Invariants:
- xfer() allocates nothing; program/erase of a file-backed chip writes
  the file at CS rise and may.
- Contents only change through program (AND) and erase (set to 0xFF).
"""

from array import array
from time import ticks_add, ticks_diff, ticks_us

from micropython import const

_PAGE = const(256)
_SECTOR = const(4096)
_IGNORED = const(0x100)  # command byte that was not accepted
_DEAD = const(1)  # world.DEAD: .fault values (see hal.sim.spi)
_NEVER_READY = const(2)  # world.NEVER_READY
# _r: the chip's registers and timings
_PROG_US = const(0)
_ERASE_US = const(1)
_CACHED = const(2)  # page address held in _pbuf (file mode), -1 none
_CMD = const(3)  # command of this selection
_N = const(4)  # bytes clocked since select
_ADDR = const(5)
_WEL = const(6)  # write enable latch
_BUSY = const(7)  # program/erase in progress, until _until
_LATCHED = const(8)  # page program: data bytes received
_NREG = const(9)
# Typical 25-series timings, what a NOR is attached with unless told otherwise
# (hal.sim's boot and world.attach_nor keep copies: NorFlash has no
# default arguments, whose tuple would stay on the heap)
_TYP_PROG_US = const(700)  # one page program
_TYP_ERASE_US = const(30000)  # one 4 KB sector erase


class NorFlash:
    def __init__(self, size, path, prog_us, erase_us):  # typical: _TYP_PROG_US, _TYP_ERASE_US
        if size & (_SECTOR - 1) or size < _SECTOR:
            raise ValueError("nor size must be a multiple of 4096")
        self.size = size
        self.fault = 0
        self.bus = self.cs = 0
        r = self._r = array("i", bytes(4 * _NREG))
        self._until = 0  # ticks_us a program/erase ends (not in _r: it exceeds 32 bits here)
        r[_PROG_US] = prog_us
        r[_ERASE_US] = erase_us
        r[_CACHED] = -1
        self._pbuf = bytearray(_PAGE)  # page program latch / file page cache
        self._mem = None
        self._f = None
        if path is None:
            self._mem = bytearray(size)
            self._erase(0, size)
        else:
            try:
                f = open(path, "r+b")
            except OSError:
                f = open(path, "w+b")
            f.seek(0, 2)
            have = f.tell()
            if have < size:
                for i in range(_PAGE):
                    self._pbuf[i] = 0xFF
                while have < size:
                    f.write(self._pbuf)
                    have += _PAGE
                f.flush()
            self._f = f

    # ---- storage ----------------------------------------------------------
    def _read(self, a):
        if self._mem is not None:
            return self._mem[a]
        page = a & ~(_PAGE - 1)
        if page != self._r[_CACHED]:
            self._f.seek(page)
            self._f.readinto(self._pbuf)
            self._r[_CACHED] = page
        return self._pbuf[a & (_PAGE - 1)]

    def _erase(self, start, n):
        for i in range(_PAGE):
            self._pbuf[i] = 0xFF
        if self._mem is not None:
            mv = memoryview(self._mem)
            for off in range(start, start + n, _PAGE):
                mv[off:off + _PAGE] = self._pbuf
            return
        f = self._f
        f.seek(start)
        for _ in range(n // _PAGE):
            f.write(self._pbuf)
        f.flush()
        self._r[_CACHED] = start + n - _PAGE

    # ---- status -------------------------------------------------------------
    def _is_busy(self):
        if self.fault == _NEVER_READY:
            return 1
        r = self._r
        if r[_BUSY] and ticks_diff(ticks_us(), self._until) >= 0:
            r[_BUSY] = 0
            r[_WEL] = 0
        return r[_BUSY]

    # ---- bus ------------------------------------------------------------------
    def select(self):
        self._r[_N] = 0

    def xfer(self, b):
        if self.fault == _DEAD:
            return 0xFF
        r = self._r
        n = r[_N]
        r[_N] = n + 1
        if n == 0:
            r[_ADDR] = 0
            r[_LATCHED] = 0
            if b != 0x05 and self._is_busy():
                r[_CMD] = _IGNORED
            else:
                r[_CMD] = b
                if b == 0x02 and self._mem is not None:
                    for i in range(_PAGE):
                        self._pbuf[i] = 0xFF
            return 0xFF
        c = r[_CMD]
        if c == 0x05:
            return self._is_busy() | r[_WEL] << 1  # status: WIP, WEL
        if c == 0x9F:  # JEDEC id: EF 40 log2(size)
            if n == 1:
                return 0xEF
            if n == 2:
                return 0x40
            if n == 3:
                cap = 0
                while (1 << cap) < self.size:
                    cap += 1
                return cap
            return 0
        if c == 0x03 or c == 0x0B or c == 0x02 or c == 0x20:
            if n <= 3:
                r[_ADDR] = (r[_ADDR] << 8 | b) & 0xFFFFFF
                return 0xFF
            if c == 0x03 or (c == 0x0B and n > 4):
                a = r[_ADDR] % self.size
                r[_ADDR] = a + 1
                return self._read(a)
            if c == 0x02:
                if r[_LATCHED] == 0 and self._mem is None:
                    # file mode: _pbuf becomes the latch (cache invalid)
                    r[_CACHED] = -1
                    for i in range(_PAGE):
                        self._pbuf[i] = 0xFF
                self._pbuf[(r[_ADDR] + n - 4) & (_PAGE - 1)] = b
                r[_LATCHED] += 1
        return 0xFF

    def deselect(self):
        r = self._r
        c = r[_CMD]
        n = r[_N]
        r[_N] = 0
        if n == 0 or self.fault:
            return
        if c == 0x06:
            r[_WEL] = 1
        elif c == 0x04:
            r[_WEL] = 0
        elif not r[_WEL]:
            return
        elif c == 0x02 and r[_LATCHED]:
            page = (r[_ADDR] % self.size) & ~(_PAGE - 1)
            if self._mem is not None:
                m = self._mem
                for i in range(_PAGE):
                    m[page + i] &= self._pbuf[i]
            else:
                # file mode: _pbuf becomes the page cache, the latch a scratch copy
                latch = bytes(self._pbuf)
                f = self._f
                f.seek(page)
                f.readinto(self._pbuf)
                for i in range(_PAGE):
                    self._pbuf[i] &= latch[i]
                f.seek(page)
                f.write(self._pbuf)
                f.flush()
                r[_CACHED] = page
            r[_BUSY] = 1
            self._until = ticks_add(ticks_us(), r[_PROG_US])
        elif c == 0x20 and n == 4:
            self._erase((r[_ADDR] % self.size) & ~(_SECTOR - 1), _SECTOR)
            r[_BUSY] = 1
            self._until = ticks_add(ticks_us(), r[_ERASE_US])
        elif (c == 0xC7 or c == 0x60) and n == 1:
            self._erase(0, self.size)
            r[_BUSY] = 1
            self._until = ticks_add(ticks_us(), r[_ERASE_US] * 4)
