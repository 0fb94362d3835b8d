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
_HDR = const(6)
_E_IO = const(-10)
_E_BADARG = const(-7)


class Spi(Client):
    _ops = "Spi"  # config, poll: clients.more.Spi, loaded on first use
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

    async def reconnected(self):
        if self._cfg is not None:
            await self.call(_CONFIG, self._cfg)

class Flash:
    """A 25-series SPI NOR flash reached through the spi server."""

    PAGE = 256
    SECTOR = 4096
    _ops = "Flash"  # read, program, erase: clients.more.Flash, loaded on first use
    __getattr__ = Client.__getattr__

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
