"""Client library for the counter server: apps never pack bytes."""

from clients.base import Client


class Counter(Client):
    def __init__(self, k, name="counter", timeout_ms=1000):
        super().__init__(k, name, timeout_ms)
        self._b = bytearray(1)

    async def add(self, n):
        """Add n (0..255); returns the new total. Not retried after E_DEAD."""
        self._b[0] = n
        r = await self.call(1, self._b, idempotent=False)
        return int.from_bytes(r.rbody[:4], "little")

    async def get(self):
        r = await self.call(2)
        return int.from_bytes(r.rbody[:4], "little")

    async def dump(self, lease):
        """Copy the recent adds into a writable lease of >= 16 bytes; returns how many."""
        r = await self.call(3, None, lease)
        return r.rbody[0]
