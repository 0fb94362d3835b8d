"""The client libraries' rarely used ops, loaded on their first use.

Each client class (clients.gpio.Gpio, .uart.Uart, .spi.Spi and Flash)
keeps in its own module only the ops an app calls all the time; the rest
are here, under a class of the same name, and Client.__getattr__ finds them
the first time one is called (so an app that never subscribes or
configures never loads this code: about 100 bytes of RAM per function on a
64-bit port). They are the same ops as if they were written in the class:
self is the client object. The protocols are in the servers' docstrings.
rc_name(rc), an error's name, is here too.
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

_READ = const(1)  # gpio
_WRITE = const(2)
_SUBSCRIBE = const(5)
_U_SUBSCRIBE = const(3)  # uart
_U_CONFIG = const(4)
_U_STATUS = const(5)
_S_CONFIG = const(2)  # spi
_S_POLL = const(3)
_PARITY = {None: 0, "even": 1, "odd": 2, 0: 1, 1: 2}


def rc_name(rc):
    """rc's name ("dead" for abi.E_DEAD); the name table (keep.abinames)
    loads only when asked."""
    from keep import abinames

    return abinames.RC_NAMES.get(rc, str(rc))


class Client:
    """Nothing here: a client class without an _ops (Client itself, an
    app's own client class) keeps no ops in this module."""


def _keep(c, key, op, body):
    """Remember the request (op, body) under key, for Client.reconnected to
    send to a new server instance; body None forgets it."""
    if c._resend is None:
        c._resend = {}
    if body is None:
        c._resend.pop(key, None)
    else:
        c._resend[key] = (op, body)


class Gpio:
    # The names used with an input pin: its reads and subscriptions are here
    # too, so they load this module anyway. OUT stays in clients.gpio.
    IN = 0
    PULL_UP = 1
    PULL_DOWN = 2
    RISING = 1
    FALLING = 2
    BOTH = 3

    async def read(self, pin):
        r = await self.call(_READ, bytes((pin,)))
        return r.rbody[0] if r.rlen else 0

    async def write(self, pin, level):
        await self.call(_WRITE, bytes((pin, 1 if level else 0)))

    async def subscribe(self, pin, edges, bit):
        body = bytes((pin, edges, bit))
        await self.call(_SUBSCRIBE, body)
        _keep(self, pin, _SUBSCRIBE, body if edges else None)  # edges 0: unsubscribed

    def resubscribe(self):
        """Send the subscriptions again (what a new server instance gets
        anyway): a task that only waits for edges calls this now and then."""
        return self.reconnected()


class Uart:
    async def subscribe(self, bit):
        body = bytes((255 if bit is None else bit,))  # 255: unsubscribe
        await self.call(_U_SUBSCRIBE, body)
        _keep(self, _U_SUBSCRIBE, _U_SUBSCRIBE, None if bit is None else body)

    async def config(self, baud, bits=8, parity=None, stop=1):
        await self.call(_U_CONFIG, bytes((baud & 0xFF, baud >> 8 & 0xFF, baud >> 16 & 0xFF,
                                          baud >> 24 & 0xFF, bits, _PARITY[parity], stop)))

    async def status(self):
        r = await self.call(_U_STATUS)
        b = r.rbody
        return b[0] | b[1] << 8, b[2] | b[3] << 8


class Spi:
    async def config(self, baud, mode=0):
        body = bytes((baud & 0xFF, baud >> 8 & 0xFF, baud >> 16 & 0xFF, baud >> 24 & 0xFF, mode))
        _keep(self, _S_CONFIG, _S_CONFIG, body)
        await self.call(_S_CONFIG, body)

    async def poll(self, cmd, mask, want, timeout_ms=100):
        r = await self.call(_S_POLL, bytes((cmd, mask, want, timeout_ms & 0xFF, timeout_ms >> 8)),
                            None, True, self.timeout_ms + timeout_ms)
        return r.rbody[0]


def _addressed(op, addr):
    """A flash command: op and a 24-bit address."""
    return bytes((op, addr >> 16 & 0xFF, addr >> 8 & 0xFF, addr & 0xFF))


def _until_ready(fl):
    """Poll the status register (0x05) until the busy bit is clear."""
    return fl.spi.poll(0x05, 0x01, 0x00, fl.busy_timeout_ms)


class Flash:
    PAGE = 256  # program() writes at most one page
    SECTOR = 4096  # erase() clears one sector
    busy_timeout_ms = 200  # how long program/erase poll for not-busy, unless Flash(k, name, ms)

    async def jedec(self):
        """The JEDEC id: maker, type, capacity (check() also tests it)."""
        d = await self.spi.xfer(b"\x9f", 3, idempotent=True)
        return d[0] << 16 | d[1] << 8 | d[2]

    async def read(self, addr, n=0, lease=None):
        c = _addressed(0x03, addr)
        if lease is None:
            return await self.spi.xfer(c, n, idempotent=True)
        await self.spi.xfer(c, 0, lease, 0, n, idempotent=True)

    async def program(self, addr, data=None, lease=None, n=0):
        """Page program (must not cross a page end); waits until done."""
        await _until_ready(self)
        await self.spi.xfer(b"\x06")  # write enable
        c = _addressed(0x02, addr)
        if lease is None:
            await self.spi.xfer(c + data)
        else:
            await self.spi.xfer(c, 0, lease, 0, n)
        await _until_ready(self)

    async def erase(self, addr):
        """Erase the 4 KB sector holding addr; waits until done."""
        await _until_ready(self)
        await self.spi.xfer(b"\x06")  # write enable
        await self.spi.xfer(_addressed(0x20, addr))
        await _until_ready(self)
