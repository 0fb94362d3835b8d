# Declared hot path (docs/performance.md, "Rules"): the viper byte loops _copy
# and _fill, leaves under every lease and region read and write. MicroPython
# speed and RAM tricks are allowed there, each under one of those rules; the
# rest of this module is plain code.
"""Regions and leases: checked windows onto one kernel arena.

The arena is a single bytearray allocated once at boot. This module is
loaded only by apps that declare a region (boot, kernel.spawn): a lease
is made from a region, so no other app ever needs it. Each task's
regions are carved from it following the board's MPU rules (how many per
task, minimum size, power-of-two sizes, alignment), so an app that fits
here would fit the chip's real MPU. A task reaches its memory only through
a Region handle (`k.region("buf")`), and lends a slice of it to a server
for one call with a Lease (`k.send(..., lease=r.lease(off, n, writable))`).

Every access checks, in this order: that the caller is the task the handle
belongs to (tcb.cur; a handle means nothing in another task), that the
access is inside the region or lease, and that it is permitted (writes need
a writable region / lease; a lease works only while granted to the task
using it). A violation is a memory fault of the *accessing* task: a
TR_MEMFAULT trace record, a fault record with address, length and access
kind, and a MemoryFault raised so the task's code stops at the violation.

Invariants:
- Regions never overlap and never move; region r of slot s keeps its arena
  offset for the life of the boot (restarts included: contents persist).
- A Lease is NEW until the kernel grants it to the server that received
  the message, GRANTED until the reply (or the client's timeout or death),
  then ENDED for good (reuse= re-arms it as NEW for the owner's next call).
- Checked copies (read with `into`, readinto, write, lease read/write)
  allocate nothing: a viper loop copies between the arena and the buffer.
- The arena is a plain bytearray in the shared heap. Isolation is enforced
  at this API, not by hardware: code that imports keep.mem and touches
  `arena` directly is not stopped (docs/isolation.md, the honest limit).
"""

import gc

import micropython
from micropython import const

from . import tcb
from .fault import MemoryFault, violation


_NONE = const(0xFF)
_FAULTED = const(6)  # abi.ST_FAULTED
_READ = const(1)  # abi.ACC_READ
_WRITE = const(2)  # abi.ACC_WRITE
LEASE_TAG = const(0x80)  # region byte of a TR_MEMFAULT made through a lease
MAX_REGION = const(65536)  # the trace record holds a 16-bit offset

# Lease states
NEW = const(0)
GRANTED = const(1)
ENDED = const(2)

# MPU rules: (regions per task, min size, sizes must be powers of two,
# alignment in bytes or ALIGN_SIZE = base aligned to the region's own size).
ALIGN_SIZE = const(0)
OPEN_RULES = (16, 1, False, 1)  # bare kernel, no board: anything goes
RP2040_RULES = (8, 256, True, ALIGN_SIZE)  # Cortex-M0+ PMSAv6
ESP32_RULES = (16, 32, False, 4)  # Keep's own limits (no Cortex MPU)
BOARD_RULES = {"rp2": RP2040_RULES, "sim": RP2040_RULES, "esp32": ESP32_RULES}

arena = bytearray(0)
rules = OPEN_RULES
top = 0  # first free arena offset
regions = {}  # slot -> tuple of Region, in declaration order


@micropython.viper
def _copy(dst, doff: int, src, soff: int, n: int):
    d = ptr8(dst)
    s = ptr8(src)
    i = 0
    while i < n:
        d[doff + i] = s[soff + i]
        i += 1


@micropython.viper
def _fill(dst, off: int, n: int, v: int):
    d = ptr8(dst)
    i = 0
    while i < n:
        d[off + i] = v
        i += 1


def _read(at, n, into):
    """n arena bytes at `at`: copied into `into` (returns n, no allocation)
    or returned as new bytes. Bounds were checked by the caller."""
    if into is None:
        return bytes(memoryview(arena)[at:at + n])
    if len(into) < n or isinstance(into, bytes):
        raise TypeError("into: a writable buffer of at least n bytes")
    _copy(into, 0, arena, at, n)
    return n


def rules_from(spec):
    """Normalise MPU rules: a tuple, a board HAL name, or None (open)."""
    if spec is None:
        return OPEN_RULES
    if isinstance(spec, str):
        return BOARD_RULES[spec]
    count, min_size, pow2, align = spec
    if align == "size":
        align = ALIGN_SIZE
    return (count, min_size, bool(pow2), align)


def problem(size, r=None):
    """Why one region of `size` bytes breaks rules r, or None."""
    count, min_size, pow2, align = r or rules
    if size < min_size:
        return "%d bytes is below the MPU minimum of %d" % (size, min_size)
    if size > MAX_REGION:
        return "%d bytes is above the largest region, %d" % (size, MAX_REGION)
    if pow2 and size & (size - 1):
        return "%d bytes is not a power of two" % size
    if align and size % align:
        return "%d bytes is not a multiple of %d" % (size, align)
    return None


def _align(size, r):
    a = r[3]
    return size if a == ALIGN_SIZE else a


def _place(at, specs, r):
    """Arena offsets for specs placed from `at` (largest first, so power-of-two
    regions pack without padding); returns (offsets by spec index, new top)."""
    order = sorted(range(len(specs)), key=lambda i: -specs[i][1])
    offs = [0] * len(specs)
    for i in order:
        size = specs[i][1]
        a = _align(size, r)
        at = (at + a - 1) // a * a
        offs[i] = at
        at += size
    return offs, at


def need(all_specs, r=None):
    """Arena bytes for every task's specs, placed in slot order (boot sizing)."""
    r = rules_from(r) if r is not None else rules
    at = 0
    for specs in all_specs:
        if specs:
            at = _place(at, specs, r)[1]
    return at


def init(size, r=None):
    """Allocate the arena (boot time only) and set the MPU rules."""
    global arena, rules, top
    rules = rules_from(r)
    # Let a previous arena (a re-boot in the same process: tests, bench) be
    # collected before asking for the new one, so the two never coexist and
    # the new one can reuse the old one's block.
    arena = None
    regions.clear()
    gc.collect()
    arena = bytearray(size)
    top = 0


def carve(slot, specs):
    """Give slot its regions: specs = ((name, size, writable), ...).

    Raises ValueError (a configuration error, at spawn) when the specs break
    the MPU rules or the arena is too small. Returns {name: Region}.
    """
    global top
    specs = tuple(specs)
    if len(specs) > rules[0]:
        raise ValueError("%d regions; the MPU allows %d per task" % (len(specs), rules[0]))
    for name, size, _w in specs:
        why = problem(size)
        if why:
            raise ValueError("region %s: %s" % (name, why))
    offs, end = _place(top, specs, rules)
    if end > len(arena):
        raise ValueError("arena too small: needs %d bytes, has %d" % (end, len(arena)))
    top = end
    out = {}
    regs = []
    for i in range(len(specs)):
        name, size, w = specs[i]
        reg = Region(slot, i, name, offs[i], size, bool(w))
        out[name] = reg
        regs.append(reg)
    regions[slot] = tuple(regs)
    return out


_ACC = ("", "read", "write")


class Region:
    """A checked handle on one of a task's regions (from k.region(name))."""

    def __init__(self, owner, index, name, base, size, writable):
        self.owner = owner
        self.index = index
        self.name = name
        self.base = base  # arena offset
        self.size = size
        self.writable = writable

    def _check(self, acc, off, n):
        s = tcb.cur
        if s != self.owner:
            raise violation(s, self.index, acc, off, n,
                            "region %s belongs to task %d, not %d" % (self.name, self.owner, s))
        if tcb.state[s] >= _FAULTED:
            raise MemoryFault("task already faulted")
        if off < 0 or n < 0 or off + n > self.size:
            raise violation(s, self.index, acc, off, n, "%s of %d bytes at %s+%d: outside %d bytes"
                            % (_ACC[acc], n, self.name, off, self.size))
        if acc == _WRITE and not self.writable:
            raise violation(s, self.index, acc, off, n, "write to read-only region " + self.name)

    def read(self, off, n, into=None):
        """n bytes at off: copied into `into` (returns n, no allocation) or
        returned as new bytes."""
        self._check(_READ, off, n)
        return _read(self.base + off, n, into)

    def readinto(self, buf, off=0):
        """Fill buf from the region at off; returns len(buf)."""
        return self.read(off, len(buf), buf)

    def write(self, off, data):
        """Copy data into the region at off; returns its length."""
        n = len(data)
        self._check(_WRITE, off, n)
        _copy(arena, self.base + off, data, 0, n)
        return n

    def byte(self, off):
        self._check(_READ, off, 1)
        return arena[self.base + off]

    def set_byte(self, off, v):
        self._check(_WRITE, off, 1)
        arena[self.base + off] = v

    def fill(self, v=0, off=0, n=None):
        """Set n bytes (default: to the end) at off to v."""
        if n is None:
            n = self.size - off
        self._check(_WRITE, off, n)
        _fill(arena, self.base + off, n, v)

    def lease(self, off, n, writable=False, reuse=None):
        """A Lease of n bytes at off for one send (reuse= re-arms an ended
        one of this region instead of allocating)."""
        self._check(_WRITE if writable else _READ, off, n)
        if reuse is None:
            return Lease(self, off, n, writable)
        if reuse.region is not self or reuse.state == GRANTED:
            raise violation(tcb.cur, self.index | LEASE_TAG, _READ, off, n,
                            "reuse: not an idle lease of region " + self.name)
        reuse.base = self.base + off
        reuse.off = off
        reuse.len = n
        reuse.writable = writable
        reuse.state = NEW
        reuse.server = _NONE
        return reuse


class Lease:
    """n bytes of a client's region lent to the server of one call.

    The server uses read/write/readinto with offsets inside the lease; the
    kernel grants it when the server receives the message and ends it at
    the reply (or when the client times out or dies).
    """

    def __init__(self, region, off, n, writable):
        self.region = region
        self.owner = region.owner
        self.base = region.base + off  # arena offset
        self.off = off  # offset inside the region (for fault records)
        self.len = n
        self.writable = writable
        self.state = NEW
        self.server = _NONE

    # ---- kernel side (ipc.deliver, transition.end_lease) ---------------------
    def grant(self, s):
        self.state = GRANTED
        self.server = s

    def end(self):
        self.state = ENDED
        self.server = _NONE

    # ---- server side ----------------------------------------------------------
    def _check(self, acc, off, n):
        s = tcb.cur
        tag = self.region.index | LEASE_TAG
        if self.state != GRANTED or s != self.server:
            raise violation(s, tag, acc, self.off + off, n,
                            "lease used by task %d: %s" % (s, "ended" if self.state == ENDED else
                                                          "not granted to it"))
        if tcb.state[s] >= _FAULTED:
            raise MemoryFault("task already faulted")
        if off < 0 or n < 0 or off + n > self.len:
            raise violation(s, tag, acc, self.off + off, n, "lease %s of %d bytes at +%d: outside %d bytes"
                            % (_ACC[acc], n, off, self.len))
        if acc == _WRITE and not self.writable:
            raise violation(s, tag, acc, self.off + off, n, "write through a read-only lease")

    def read(self, off, n, into=None):
        self._check(_READ, off, n)
        return _read(self.base + off, n, into)

    def readinto(self, buf, off=0):
        return self.read(off, len(buf), buf)

    def write(self, off, data, n=None):
        """Copy data (its first n bytes) into the lease at off; returns n."""
        if n is None:
            n = len(data)
        elif n > len(data):
            raise TypeError("n is larger than data")
        self._check(_WRITE, off, n)
        _copy(arena, self.base + off, data, 0, n)
        return n


# The kernel's lease check (keep/task.py, send) accepts exactly this class:
# registered in the bottom layer, because keep.mem loads only in apps with
# regions, and no lease can exist before it does.
tcb.lease_class = Lease
