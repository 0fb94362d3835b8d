"""uart client: bytes through the uart server, without packing them.

    from clients.uart import Uart
    u = Uart(k)                       # the server named "uart"
    n = await u.write(b"hello")       # inline (up to the message limit)
    n = await u.write(lease=ls)       # bulk: a readable lease of the app's region
    data = await u.read(32)           # bytes, possibly b"" (never blocks)
    n = await u.read(lease=ls)        # bulk into a writable lease -> count
    await u.subscribe(bit=2)          # "data arrived" as notification 1 << 2
    await u.config(9600, bits=8, parity=None, stop=1)   # parity None/'even'/'odd'
    waiting, overruns = await u.status()

write and read are not retried after E_DEAD (bytes could be sent twice or
lost from the reply): they raise ServerError(E_DEAD) and the app decides.
subscribe, config and status are retried once; a subscription is sent
again to a restarted server before the next call reaches it.
"""

from micropython import const

from clients.base import Client

_WRITE = const(1)
_READ = const(2)
_SUBSCRIBE = const(3)


class Uart(Client):
    _ops = "Uart"  # subscribe, config, status: clients.more.Uart, loaded on first use
    def __init__(self, k, name="uart", timeout_ms=1000):
        super().__init__(k, name, timeout_ms)
        self._b = bytearray(7)
        self._bit = -1

    async def write(self, data=None, lease=None, off=0, n=None):
        if lease is None:
            r = await self.call(_WRITE, data, None, False)
        else:
            if n is None:
                n = lease.len - off
            b = self._b  # the span: [off u16, n u16]
            b[0] = off & 0xFF
            b[1] = off >> 8
            b[2] = n & 0xFF
            b[3] = n >> 8
            r = await self.call(_WRITE, memoryview(b)[:4], lease, False)
        return r.rbody[0] | r.rbody[1] << 8

    async def read(self, max_n=None, lease=None, off=0):
        b = self._b
        if lease is None:
            if max_n is None:
                max_n = 64
            b[0] = max_n & 0xFF
            b[1] = max_n >> 8
            r = await self.call(_READ, memoryview(b)[:2], None, False)
            return r.reply_data()
        if max_n is None:
            max_n = lease.len - off
        b[0] = off & 0xFF  # the span: [off u16, max u16]
        b[1] = off >> 8
        b[2] = max_n & 0xFF
        b[3] = max_n >> 8
        r = await self.call(_READ, memoryview(b)[:4], lease, False)
        return r.rbody[0] | r.rbody[1] << 8

    async def reconnected(self):
        if self._bit >= 0:
            await self.call(_SUBSCRIBE, bytes((self._bit,)))
