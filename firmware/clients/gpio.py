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
badge may not use, ...). Subscriptions are remembered here and sent again
to a restarted server before the next call reaches it, because a restarted
server starts with none; a task that only waits for edges should call
`await g.resubscribe()` now and then (or after a wait times out).
"""

from micropython import const

from clients.base import Client

_TOGGLE = const(3)
_CONFIG = const(4)
_SUBSCRIBE = const(5)  # also clients.more


class Gpio(Client):
    _ops = "Gpio"  # read, write, subscribe: clients.more.Gpio, loaded on first use
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2
    RISING = 1
    FALLING = 2
    BOTH = 3

    def __init__(self, k, name="gpio", timeout_ms=1000):
        super().__init__(k, name, timeout_ms)
        self._b = bytearray(4)
        self._subs = {}  # pin -> (edges, bit)

    async def toggle(self, pin):
        self._b[0] = pin
        r = await self.call(_TOGGLE, memoryview(self._b)[:1], None, False)
        return r.rbody[0] if r.rlen else 0

    async def configure(self, pin, mode, pull=0, value=None):
        b = self._b
        b[0] = pin
        b[1] = mode
        b[2] = pull or 0
        if value is not None:
            b[3] = 1 if value else 0
        await self.call(_CONFIG, memoryview(b)[:3 if value is None else 4])

    async def resubscribe(self):
        b = bytearray(3)  # not self._b: a call may be half-packed in it
        for pin, (edges, bit) in self._subs.items():
            b[0] = pin
            b[1] = edges
            b[2] = bit
            await self.call(_SUBSCRIBE, b)

    reconnected = resubscribe  # a restarted server starts with no subscriptions
