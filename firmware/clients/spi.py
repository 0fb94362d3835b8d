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

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client, ServerError

_XFER = const(1)
_HDR = const(6)
_E_IO = const(-10)
_E_BADARG = const(-7)


class Spi(Client):
    _ops = "Spi"  # config, poll: clients.more.Spi, loaded on first use
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


class Flash:
    """A 25-series SPI NOR flash reached through the spi server."""

    # jedec, read, program, erase, PAGE, SECTOR and the default busy_timeout_ms
    # (200: only program and erase wait for not-busy) are in clients.more.Flash
    _ops = "Flash"
    __getattr__ = Client.__getattr__

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
