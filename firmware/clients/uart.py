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

The ops are the server's (servers/uart.py), in its order. write and read
are not retried after E_DEAD (bytes could be sent twice or lost from the
reply): they raise ServerError(E_DEAD) and the app decides. subscribe,
config and status are retried once; a subscription is sent again to a
restarted server before the next call reaches it.
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client

_WRITE = const(1)
_READ = const(2)
# (new: abigen to adopt)
_SUBSCRIBE = const(3)
_CONFIG = const(4)
_STATUS = const(5)


class Uart(Client):
    name = "uart"  # the server's name unless Uart(k, "name")

    # The requests' u16 fields are packed with int.to_bytes: a shallower
    # stack than bytes((...)) of each byte, so a smaller coroutine frame
    # (live under the call). A count past 16 bits raises OverflowError.

    async def write(self, data=None, lease=None, off=0, n=None):
        """Send data, or n bytes of a readable lease from off (n None: the
        rest); returns the count queued. Not retried after E_DEAD."""
        if lease is not None:
            if n is None:
                n = lease.len - off
            data = (off | n << 16).to_bytes(4, "little")  # the span: [off u16, n u16]
        r = await self.call(_WRITE, data, lease, False)
        return r.rbody[0] | r.rbody[1] << 8

    async def read(self, max_n=None, lease=None, off=0):
        """Up to max_n bytes waiting (64 by default; never blocks), or read
        them into a writable lease from off and return the count."""
        if lease is None:
            max_n = 64 if max_n is None else max_n
            r = await self.call(_READ, max_n.to_bytes(2, "little"), None, False)
            return r.reply_data()
        if max_n is None:
            max_n = lease.len - off
        # the span: [off u16, max u16]
        r = await self.call(_READ, (off | max_n << 16).to_bytes(4, "little"), lease, False)
        return r.rbody[0] | r.rbody[1] << 8

    async def subscribe(self, bit):
        """"Data arrived" as notification 1 << bit; bit None unsubscribes."""
        body = bytes((255 if bit is None else bit,))  # 255: unsubscribe
        await self.call(_SUBSCRIBE, body)
        self.remember(_SUBSCRIBE, _SUBSCRIBE, None if bit is None else body)

    async def config(self, baud, bits=8, parity=None, stop=1):
        """parity None, "even" or "odd" (or machine.UART's 0 even, 1 odd)."""
        if parity is None:
            wire_parity = 0
        elif parity == "even" or parity == 0:
            wire_parity = 1
        elif parity == "odd" or parity == 1:
            wire_parity = 2
        else:
            raise ValueError("parity")
        body = baud.to_bytes(4, "little") + bytes((bits, wire_parity, stop))
        await self.call(_CONFIG, body)

    async def status(self):
        """(bytes waiting, overruns so far)."""
        b = (await self.call(_STATUS)).rbody
        return b[0] | b[1] << 8, b[2] | b[3] << 8
