"""spi client: transactions on the client's own device (picked by its
badge on the server side). A 25-series NOR flash on top of it is
clients.flash.Flash.

    from clients.spi import Spi
    s = Spi(k)                                    # the server named "spi"
    await s.config(2_000_000, mode=0)
    idb = await s.xfer(b"\\x9f", rlen=3, idempotent=True)     # bytes read
    await s.xfer(b"\\x03\\x00\\x01\\x00", lease=ls)  # writable lease: filled
    st = await s.poll(0x05, mask=0x01, want=0x00, timeout_ms=100)

The ops are the server's (servers/spi.py), in its order. xfer is not
retried after E_DEAD unless the caller says idempotent=True (a read is, a
program is not); config and poll are retried once. Settings set with
config() are sent again to a restarted server before the next call.
Errors raise clients.base.ServerError(rc); a device that does not answer
shows as E_IO (poll timed out).
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

