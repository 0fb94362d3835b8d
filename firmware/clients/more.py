"""The client libraries' rarely used ops, loaded on their first use.

Each client class (clients.gpio.Gpio, .uart.Uart, .spi.Spi and Flash)
keeps in its own module only the ops an app calls all the time; the rest
are here, under a class of the same name, and Client.__getattr__ finds them
the first time one is called (so an app that never subscribes or
configures never loads this code: about 100 bytes of RAM per function on a
64-bit port). They are the same ops as if they were written in the class:
self is the client object. The protocols are in the servers' docstrings.
"""

from micropython import const

_READ = const(1)  # gpio
_WRITE = const(2)
_SUBSCRIBE = const(5)
_U_SUBSCRIBE = const(3)  # uart
_U_CONFIG = const(4)
_U_STATUS = const(5)
_S_CONFIG = const(2)  # spi
_S_POLL = const(3)
_PARITY = {None: 0, "even": 1, "odd": 2, 0: 1, 1: 2}


class Client:
    """Nothing here: a plain Client has no ops of its own."""


class Gpio:
    async def read(self, pin):
        self._b[0] = pin
        r = await self.call(_READ, memoryview(self._b)[:1])
        return r.rbody[0] if r.rlen else 0

    async def write(self, pin, level):
        b = self._b
        b[0] = pin
        b[1] = 1 if level else 0
        await self.call(_WRITE, memoryview(b)[:2])

    async def subscribe(self, pin, edges, bit):
        b = self._b
        b[0] = pin
        b[1] = edges
        b[2] = bit
        await self.call(_SUBSCRIBE, memoryview(b)[:3])
        if edges:
            self._subs[pin] = (edges, bit)
        else:
            self._subs.pop(pin, None)


class Uart:
    async def subscribe(self, bit):
        self._b[0] = 255 if bit is None else bit
        await self.call(_U_SUBSCRIBE, memoryview(self._b)[:1])
        self._bit = -1 if bit is None else bit

    async def config(self, baud, bits=8, parity=None, stop=1):
        b = self._b
        b[0] = baud & 0xFF
        b[1] = baud >> 8 & 0xFF
        b[2] = baud >> 16 & 0xFF
        b[3] = baud >> 24 & 0xFF
        b[4] = bits
        b[5] = _PARITY[parity]
        b[6] = stop
        await self.call(_U_CONFIG, b)

    async def status(self):
        r = await self.call(_U_STATUS)
        b = r.rbody
        return b[0] | b[1] << 8, b[2] | b[3] << 8


class Spi:
    async def config(self, baud, mode=0):
        self._cfg = bytes((baud & 0xFF, baud >> 8 & 0xFF, baud >> 16 & 0xFF,
                           baud >> 24 & 0xFF, mode))
        await self.call(_S_CONFIG, self._cfg)

    async def poll(self, cmd, mask, want, timeout_ms=100):
        r = await self.call(_S_POLL, bytes((cmd, mask, want, timeout_ms & 0xFF, timeout_ms >> 8)),
                            None, True, self.timeout_ms + timeout_ms)
        return r.rbody[0]


def _addressed(fl, op, addr):
    """fl's 4-byte command buffer holding op and a 24-bit address."""
    c = fl._cmd
    c[0] = op
    c[1] = addr >> 16 & 0xFF
    c[2] = addr >> 8 & 0xFF
    c[3] = addr & 0xFF
    return c


def _until_ready(fl):
    """Poll the status register (0x05) until the busy bit is clear."""
    return fl.spi.poll(0x05, 0x01, 0x00, fl.busy_timeout_ms)


class Flash:
    async def read(self, addr, n=0, lease=None):
        c = _addressed(self, 0x03, addr)
        if lease is None:
            return await self.spi.xfer(c, n, idempotent=True)
        await self.spi.xfer(c, 0, lease, 0, n, idempotent=True)

    async def program(self, addr, data=None, lease=None, n=0):
        """Page program (must not cross a page end); waits until done."""
        await _until_ready(self)
        await self.spi.xfer(b"\x06")  # write enable
        c = _addressed(self, 0x02, addr)
        if lease is None:
            await self.spi.xfer(bytes(c) + data)
        else:
            await self.spi.xfer(c, 0, lease, 0, n)
        await _until_ready(self)

    async def erase(self, addr):
        """Erase the 4 KB sector holding addr; waits until done."""
        await _until_ready(self)
        await self.spi.xfer(b"\x06")  # write enable
        await self.spi.xfer(_addressed(self, 0x20, addr))
        await _until_ready(self)
