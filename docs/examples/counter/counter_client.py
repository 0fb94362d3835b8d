"""Client library for the counter server: apps never pack bytes."""

from clients.base import Client

_ADD = const(1)  # the ops' numbers, from the protocol table
_GET = const(2)
_DUMP = const(3)


class Counter(Client):
    name = "counter"  # the server's name unless Counter(k, "name")

    async def add(self, n):
        """Add n (0..255); returns the new total. Not retried after E_DEAD."""
        r = await self.call(_ADD, bytes((n,)), idempotent=False)
        return int.from_bytes(r.rbody[:4], "little")

    async def get(self):
        r = await self.call(_GET)
        return int.from_bytes(r.rbody[:4], "little")

    async def dump(self, lease):
        """Copy the recent adds into a writable lease of >= 16 bytes; returns how many."""
        r = await self.call(_DUMP, lease=lease)
        return r.rbody[0]
