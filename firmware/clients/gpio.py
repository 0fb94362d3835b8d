"""gpio client: pins through the gpio server, without packing bytes.

    from clients.gpio import Gpio
    g = Gpio(k)                  # the server named "gpio" (or Gpio(k, "name"))
    await g.configure(2, g.OUT)  # or g.IN, pull=g.PULL_UP
    await g.write(2, 1)
    v = await g.read(4)
    v = await g.toggle(2)        # not retried after E_DEAD (not idempotent)
    await g.subscribe(4, g.FALLING, bit=3)   # edges arrive as notification 1 << 3
    m = await k.wait(1 << 3)

Errors raise clients.base.ServerError(rc) (rc = abi.E_DENIED for a pin the
badge may not use, ...). Subscriptions are remembered (Client._resend) and
sent again to a restarted server before the next call reaches it, because
a restarted server starts with none; a task that only waits for edges
should call `await g.resubscribe()` now and then (or after a wait times
out). read, write, subscribe and resubscribe, and the names IN, PULL_UP,
PULL_DOWN, RISING, FALLING, BOTH, are in clients.more (loaded on first use;
a task with a heap budget that calls them imports clients.more at the top
of its module, so the load happens at boot and not in its slice).
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

from clients.base import Client

_TOGGLE = const(3)
_CONFIG = const(4)


class Gpio(Client):
    _ops = "Gpio"  # the rarely used ops and names: clients.more.Gpio
    name = "gpio"  # the server's name unless Gpio(k, "name")
    OUT = 1  # IN, PULL_UP, PULL_DOWN, RISING, FALLING, BOTH: clients.more.Gpio

    async def toggle(self, pin):
        r = await self.call(_TOGGLE, bytes((pin,)), None, False)
        return r.rbody[0] if r.rlen else 0

    async def configure(self, pin, mode, pull=0, value=None):
        b = bytearray(3 if value is None else 4)
        b[0] = pin
        b[1] = mode
        b[2] = pull or 0
        if value is not None:
            b[3] = 1 if value else 0
        await self.call(_CONFIG, b)
