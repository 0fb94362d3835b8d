"""spi client: transactions on the client's own device (picked by its
badge on the server side), and a 25-series NOR flash on top of it.

    from clients.spi import Spi, Flash
    s = Spi(k)                                    # the server named "spi"
    await s.config(2_000_000, mode=0)
    idb = await s.xfer(b"\\x9f", rlen=3, idempotent=True)     # bytes read
    await s.xfer(b"\\x03\\x00\\x01\\x00", lease=ls)  # writable lease: filled
    st = await s.poll(0x05, mask=0x01, want=0x00, timeout_ms=100)

    f = Flash(k)                                  # over Spi(k, "spi")
    await f.check()                               # JEDEC id, E_IO if absent
    await f.erase(0x1000)                         # 4 KB sector, waits ready
    await f.program(0x1000, b"record")            # <= one page; or lease=
    data = await f.read(0x1000, 6)                # inline; or lease=

Spi's ops are the server's (servers/spi.py), in its order. xfer is not
retried after E_DEAD unless the caller says idempotent=True (a read is, a
program is not); config and poll are retried once. Settings set with
config() are sent again to a restarted server before the next call.
Errors raise clients.base.ServerError(rc); a device that does not answer
shows as E_IO (no JEDEC id, or poll timed out).
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client, ServerError

_XFER = const(1)
_HDR = const(6)
_E_IO = const(-10)
_E_BADARG = const(-7)
# (new: abigen to adopt)
_CONFIG = const(2)
_POLL = const(3)


class Spi(Client):
    name = "spi"  # the server's name unless Spi(k, "name")

    async def xfer(self, write=b"", rlen=0, lease=None, loff=0, ln=0, idempotent=False):
        """CS low, write, move the lease (ln bytes from loff, 0 = the rest),
        read rlen bytes, CS high; returns the rlen bytes read (or b"")."""
        if _HDR + len(write) > len(self.k.m.body):
            raise ServerError(_E_BADARG)
        b = bytearray(_HDR + len(write))
        b[0] = rlen
        b[2] = loff & 0xFF
        b[3] = loff >> 8
        b[4] = ln & 0xFF
        b[5] = ln >> 8
        b[_HDR:] = write
        r = await self.call(_XFER, b, lease, idempotent)
        return r.reply_data() if rlen else b""

    async def config(self, baud, mode=0):
        """This client's clock and mode (polarity << 1 | phase), for its own
        transactions; sent again to a restarted server."""
        body = baud.to_bytes(4, "little") + bytes((mode,))
        self.remember(_CONFIG, _CONFIG, body)
        await self.call(_CONFIG, body)

    async def poll(self, cmd, mask, want, timeout_ms=100):
        """Repeat [cmd] + read one byte until status & mask == want; the
        status, or ServerError(E_IO) after timeout_ms."""
        body = bytes((cmd, mask, want)) + timeout_ms.to_bytes(2, "little")
        r = await self.call(_POLL, body, None, True, self.timeout_ms + timeout_ms)
        return r.rbody[0]


def _addressed(op, addr):
    """A flash command: op and a 24-bit address."""
    return bytes((op, addr >> 16 & 0xFF, addr >> 8 & 0xFF, addr & 0xFF))


class Flash:
    """A 25-series SPI NOR flash reached through the spi server."""

    PAGE = 256  # program() writes at most one page
    SECTOR = 4096  # erase() clears one sector
    busy_timeout_ms = 200  # how long program/erase poll for not-busy, unless Flash(k, name, ms)

    def __init__(self, k, name=None, busy_timeout_ms=None):
        self.spi = Spi(k, name)
        if busy_timeout_ms is not None:
            self.busy_timeout_ms = busy_timeout_ms

    async def check(self):
        """The JEDEC id; ServerError(E_IO) when no device answers."""
        # The XFER is packed here ([rlen 3, 0, loff 0, ln 0] + the read-id
        # command 0x9f), not by xfer() or jedec(): the chaos demo checks
        # twice a second, and every coroutine frame nested under a call is
        # live heap while it waits (here 2 fewer frames, and no reply copy).
        d = (await self.spi.call(_XFER, b"\x03\x00\x00\x00\x00\x00\x9f")).rbody
        j = d[0] << 16 | d[1] << 8 | d[2]
        if j == 0xFFFFFF or j == 0:
            raise ServerError(_E_IO)
        return j

    async def jedec(self):
        """The JEDEC id: maker, type, capacity (check() also tests it)."""
        d = await self.spi.xfer(b"\x9f", 3, idempotent=True)
        return d[0] << 16 | d[1] << 8 | d[2]

    async def read(self, addr, n=0, lease=None):
        """n bytes from addr, or into a writable lease (n 0: all of it)."""
        c = _addressed(0x03, addr)
        if lease is None:
            return await self.spi.xfer(c, n, idempotent=True)
        await self.spi.xfer(c, 0, lease, 0, n, idempotent=True)

    async def program(self, addr, data=None, lease=None, n=0):
        """Page program (must not cross a page end); waits until done."""
        await self.wait_ready()
        await self.spi.xfer(b"\x06")  # write enable
        c = _addressed(0x02, addr)
        if lease is None:
            await self.spi.xfer(c + data)
        else:
            await self.spi.xfer(c, 0, lease, 0, n)
        await self.wait_ready()

    async def erase(self, addr):
        """Erase the 4 KB sector holding addr; waits until done."""
        await self.wait_ready()
        await self.spi.xfer(b"\x06")  # write enable
        await self.spi.xfer(_addressed(0x20, addr))
        await self.wait_ready()

    def wait_ready(self):
        """Poll the status register (0x05) until the busy bit is clear."""
        return self.spi.poll(0x05, 0x01, 0x00, self.busy_timeout_ms)
