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

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client

_WRITE = const(1)
_READ = const(2)


class Uart(Client):
    _ops = "Uart"  # subscribe, config, status: clients.more.Uart, loaded on first use
    name = "uart"  # the server's name unless Uart(k, "name")

    # The requests' u16 fields are packed with int.to_bytes: a shallower
    # stack than bytes((...)) of each byte, so a smaller coroutine frame
    # (live under the call). A count past 16 bits raises OverflowError.

    async def write(self, data=None, lease=None, off=0, n=None):
        if lease is not None:
            if n is None:
                n = lease.len - off
            data = (off | n << 16).to_bytes(4, "little")  # the span: [off u16, n u16]
        r = await self.call(_WRITE, data, lease, False)
        return r.rbody[0] | r.rbody[1] << 8

    async def read(self, max_n=None, lease=None, off=0):
        if lease is None:
            r = await self.call(_READ, (64 if max_n is None else max_n).to_bytes(2, "little"),
                                None, False)
            return r.reply_data()
        if max_n is None:
            max_n = lease.len - off
        # the span: [off u16, max u16]
        r = await self.call(_READ, (off | max_n << 16).to_bytes(4, "little"), lease, False)
        return r.rbody[0] | r.rbody[1] << 8
