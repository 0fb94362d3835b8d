"""TEST-ONLY stand-in for keep/mem.py leases (the iso engineer's piece),
with the interface the servers use:

  client:  lease = StubRegion(256).lease(off, n, writable)
           (also installed as Handle.region(name) by install())
  server:  m.lease.len, m.lease.writable,
           m.lease.read(off, n, into) -> n   copy lease[off:off+n] into `into`
           m.lease.write(off, data)   -> n   copy data into lease[off:]
  kernel:  lease.grant(slot) when delivered, lease.end() at reply / fault

An access out of bounds, without write permission, or outside the call
raises MemoryError (the real one faults the server with a memory fault).
"""


class StubLease:
    def __init__(self, buf, off, n, writable, region=None):
        self.region = region
        self.buf = buf
        self.off = off
        self.len = n
        self.writable = writable
        self.holder = -1
        self.grants = 0

    def grant(self, slot):
        self.holder = slot
        self.grants += 1

    def end(self):
        self.holder = -1

    def _check(self, off, n):
        if self.holder < 0:
            raise MemoryError("lease used outside its call")
        if off < 0 or n < 0 or off + n > self.len:
            raise MemoryError("lease access out of bounds")

    def read(self, off, n, into):
        self._check(off, n)
        o = self.off + off
        into[:n] = self.buf[o:o + n]
        return n

    def write(self, off, data):
        if not self.writable:
            raise MemoryError("lease is read-only")
        n = len(data)
        self._check(off, n)
        o = self.off + off
        self.buf[o:o + n] = data
        return n


class StubRegion:
    """keep.mem.Region's task-side calls, over a plain bytearray."""

    def __init__(self, size):
        self.buf = bytearray(size)
        self.size = size

    def read(self, off, n, into=None):
        if into is None:
            return bytes(self.buf[off:off + n])
        into[:n] = self.buf[off:off + n]
        return n

    def write(self, off, data):
        self.buf[off:off + len(data)] = data
        return len(data)

    def fill(self, v=0, off=0, n=None):
        if n is None:
            n = self.size - off
        for i in range(off, off + n):
            self.buf[i] = v

    def lease(self, off, n, writable=False, reuse=None):
        if off < 0 or off + n > len(self.buf):
            raise ValueError("lease outside the region")
        return StubLease(self.buf, off, n, writable, self)


_regions = {}


def install(sizes):
    """Give every task's handle region(name) over StubRegions (test only)."""
    from keep import task

    for name, size in sizes.items():
        _regions[name] = StubRegion(size)
    task.Handle.region = lambda h, name: _regions[name]
    return _regions
