"""flash client: a 25-series SPI NOR flash, through the spi server
(clients.spi.Spi: the transactions go to the client's own chip select).

    from clients.flash import Flash
    f = Flash(k)                                  # over Spi(k, "spi")
    await f.check()                               # JEDEC id, E_IO if absent
    await f.erase(0x1000)                         # 4 KB sector, waits ready
    await f.program(0x1000, b"record")            # <= one page; or lease=
    data = await f.read(0x1000, 6)                # inline; or lease=

Reads are retried once after E_DEAD (idempotent), a program or an erase
is not. Errors raise clients.base.ServerError(rc); a device that does not
answer shows as E_IO (no JEDEC id, or it never gets ready).
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import ServerError
from clients.spi import Spi

# (new: abigen to adopt)
_E_IO = const(-10)

# The flash's own commands (the chip's datasheet, not Keep's ABI).
_READ_ID = const(0x9F)  # -> maker, type, capacity
_READ = const(0x03)  # + a 24-bit address -> data
_WRITE_ENABLE = const(0x06)  # before each program or erase
_PAGE_PROGRAM = const(0x02)  # + a 24-bit address + up to a page of data
_SECTOR_ERASE = const(0x20)  # + a 24-bit address
_READ_STATUS = const(0x05)  # -> status; bit 0: busy


def _addressed(command, addr):
    """A flash command and its 24-bit address."""
    return bytes((command, addr >> 16 & 0xFF, addr >> 8 & 0xFF, addr & 0xFF))


class Flash:
    """A 25-series SPI NOR flash reached through the spi server."""

    PAGE = 256  # program() writes at most one page
    SECTOR = 4096  # erase() clears one sector
    busy_timeout_ms = 200  # how long program/erase poll for not-busy, unless Flash(k, name, ms)

    def __init__(self, k, name=None, busy_timeout_ms=None):
        self.spi = Spi(k, name)
        if busy_timeout_ms is not None:
            self.busy_timeout_ms = busy_timeout_ms

    async def jedec(self):
        """The JEDEC id: maker, type, capacity."""
        d = await self.spi.xfer(bytes((_READ_ID,)), 3, idempotent=True)
        return d[0] << 16 | d[1] << 8 | d[2]

    async def check(self):
        """The JEDEC id; ServerError(E_IO) when no device answers (all ones
        on a floating MISO, all zeros on one held low)."""
        jedec = await self.jedec()
        if jedec == 0xFFFFFF or jedec == 0:
            raise ServerError(_E_IO)
        return jedec

    async def read(self, addr, n=0, lease=None):
        """n bytes from addr, or into a writable lease (n 0: all of it)."""
        command = _addressed(_READ, addr)
        if lease is None:
            return await self.spi.xfer(command, n, idempotent=True)
        await self.spi.xfer(command, 0, lease, 0, n, idempotent=True)

    async def program(self, addr, data=None, lease=None, n=0):
        """Page program (must not cross a page end); waits until done."""
        await self.wait_ready()
        await self.spi.xfer(bytes((_WRITE_ENABLE,)))
        command = _addressed(_PAGE_PROGRAM, addr)
        if lease is None:
            await self.spi.xfer(command + data)
        else:
            await self.spi.xfer(command, 0, lease, 0, n)
        await self.wait_ready()

    async def erase(self, addr):
        """Erase the 4 KB sector holding addr; waits until done."""
        await self.wait_ready()
        await self.spi.xfer(bytes((_WRITE_ENABLE,)))
        await self.spi.xfer(_addressed(_SECTOR_ERASE, addr))
        await self.wait_ready()

    def wait_ready(self):
        """Poll the status register until the busy bit is clear."""
        return self.spi.poll(_READ_STATUS, 0x01, 0x00, self.busy_timeout_ms)
