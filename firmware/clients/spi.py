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

xfer is not retried after E_DEAD unless the caller says idempotent=True
(a read is, a program is not); config and poll are retried once. Settings
set with config() are sent again to a restarted server before the next
call. Errors raise clients.base.ServerError(rc); a device that does not
answer shows as E_IO (no JEDEC id, or poll timed out).
"""

from micropython import const

from clients.base import Client, ServerError

_XFER = const(1)
_CONFIG = const(2)
_POLL = const(3)
_HDR = const(6)
_E_IO = const(-10)
_E_BADARG = const(-7)


class Spi(Client):
    def __init__(self, k, name="spi", timeout_ms=1000):
        super().__init__(k, name, timeout_ms)
        self._msg = bytearray(len(k.m.body))
        self._cfg = None

    async def xfer(self, write=b"", rlen=0, lease=None, loff=0, ln=0, idempotent=False):
        """CS low, write, move the lease (ln bytes from loff, 0 = the rest),
        read rlen bytes, CS high; returns the rlen bytes read (or b"")."""
        b = self._msg
        n = len(write)
        if _HDR + n > len(b):
            raise ServerError(_E_BADARG)
        b[0] = rlen
        b[1] = 0
        b[2] = loff & 0xFF
        b[3] = loff >> 8
        b[4] = ln & 0xFF
        b[5] = ln >> 8
        b[_HDR:_HDR + n] = write
        r = await self.call(_XFER, memoryview(b)[:_HDR + n], lease, idempotent)
        return r.reply_data() if rlen else b""

    async def config(self, baud, mode=0):
        self._cfg = bytes((baud & 0xFF, baud >> 8 & 0xFF, baud >> 16 & 0xFF,
                           baud >> 24 & 0xFF, mode))
        await self.call(_CONFIG, self._cfg)

    async def reconnected(self):
        if self._cfg is not None:
            await self.call(_CONFIG, self._cfg)

    async def poll(self, cmd, mask, want, timeout_ms=100):
        r = await self.call(_POLL, bytes((cmd, mask, want, timeout_ms & 0xFF, timeout_ms >> 8)),
                            None, True, self.timeout_ms + timeout_ms)
        return r.rbody[0]


class Flash:
    """A 25-series SPI NOR flash reached through the spi server."""

    PAGE = 256
    SECTOR = 4096

    def __init__(self, k, name="spi", busy_timeout_ms=200):
        self.spi = Spi(k, name)
        self.busy_timeout_ms = busy_timeout_ms
        self._cmd = bytearray(4)

    async def jedec(self):
        d = await self.spi.xfer(b"\x9f", 3, idempotent=True)
        return d[0] << 16 | d[1] << 8 | d[2]

    async def check(self):
        """The JEDEC id; ServerError(E_IO) when no device answers."""
        j = await self.jedec()
        if j == 0xFFFFFF or j == 0:
            raise ServerError(_E_IO)
        return j

    async def read(self, addr, n=0, lease=None):
        c = self._cmd
        c[0] = 0x03
        c[1] = addr >> 16 & 0xFF
        c[2] = addr >> 8 & 0xFF
        c[3] = addr & 0xFF
        if lease is None:
            return await self.spi.xfer(c, n, idempotent=True)
        await self.spi.xfer(c, 0, lease, 0, n, idempotent=True)

    async def program(self, addr, data=None, lease=None, n=0):
        """Page program (must not cross a page end); waits until done."""
        await self.spi.poll(0x05, 0x01, 0x00, self.busy_timeout_ms)  # until not busy
        await self.spi.xfer(b"\x06")
        c = self._cmd
        c[0] = 0x02
        c[1] = addr >> 16 & 0xFF
        c[2] = addr >> 8 & 0xFF
        c[3] = addr & 0xFF
        if lease is None:
            await self.spi.xfer(bytes(c) + data)
        else:
            await self.spi.xfer(c, 0, lease, 0, n)
        await self.spi.poll(0x05, 0x01, 0x00, self.busy_timeout_ms)  # until not busy

    async def erase(self, addr):
        """Erase the 4 KB sector holding addr; waits until done."""
        await self.spi.poll(0x05, 0x01, 0x00, self.busy_timeout_ms)  # until not busy
        await self.spi.xfer(b"\x06")
        c = self._cmd
        c[0] = 0x20
        c[1] = addr >> 16 & 0xFF
        c[2] = addr >> 8 & 0xFF
        c[3] = addr & 0xFF
        await self.spi.xfer(c)
        await self.spi.poll(0x05, 0x01, 0x00, self.busy_timeout_ms)  # until not busy
