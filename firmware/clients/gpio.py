"""gpio client: pins through the gpio server, without packing bytes.

    from clients.gpio import Gpio
    g = Gpio(k)                  # the server named "gpio" (or Gpio(k, "name"))
    await g.configure(2, g.OUT)  # or g.IN, pull=g.PULL_UP
    await g.write(2, 1)
    v = await g.read(4)
    v = await g.toggle(2)        # not retried after E_DEAD (not idempotent)
    await g.subscribe(4, g.FALLING, bit=3)   # edges arrive as notification 1 << 3
    m = await k.wait(1 << 3)

The ops are the server's (servers/gpio.py), in its order. Errors raise
clients.base.ServerError(rc) (rc = abi.E_DENIED for a pin the badge may not
use, ...). Subscriptions are remembered (Client.remember) and sent again to
a restarted server before the next call reaches it, because a restarted
server starts with none; a task that only waits for edges should call
`await g.resubscribe()` now and then (or after a wait times out).
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client

_TOGGLE = const(3)
_CONFIG = const(4)
# (new: abigen to adopt)
_READ = const(1)
_WRITE = const(2)
_SUBSCRIBE = const(5)


class Gpio(Client):
    name = "gpio"  # the server's name unless Gpio(k, "name")
    IN = 0  # configure(): mode
    OUT = 1
    PULL_UP = 1  # configure(): pull
    PULL_DOWN = 2
    RISING = 1  # subscribe(): edges
    FALLING = 2
    BOTH = 3

    async def read(self, pin):
        r = await self.call(_READ, bytes((pin,)))
        return r.rbody[0] if r.rlen else 0

    async def write(self, pin, level):
        """Drive pin to level (the pin becomes an output)."""
        await self.call(_WRITE, bytes((pin, 1 if level else 0)))

    async def toggle(self, pin):
        """Invert an output; returns the level after. Not retried after E_DEAD."""
        r = await self.call(_TOGGLE, bytes((pin,)), None, False)
        return r.rbody[0] if r.rlen else 0

    async def configure(self, pin, mode, pull=0, value=None):
        """mode IN or OUT, pull 0, PULL_UP or PULL_DOWN; value: an output's first level."""
        if value is None:
            body = bytes((pin, mode, pull or 0))
        else:
            body = bytes((pin, mode, pull or 0, 1 if value else 0))
        await self.call(_CONFIG, body)

    async def subscribe(self, pin, edges, bit):
        """Edges (RISING, FALLING, BOTH; 0 stops) of pin arrive as notification 1 << bit."""
        body = bytes((pin, edges, bit))
        await self.call(_SUBSCRIBE, body)
        self.remember(pin, _SUBSCRIBE, body if edges else None)

    def resubscribe(self):
        """Send the subscriptions again (what a new server instance gets
        anyway): a task that only waits for edges calls this now and then."""
        return self.reconnected()
