"""Client base: one call to a named server, surviving the server's restarts.

Every client library (clients.gpio, .uart, .spi) is a small object built on
Client. Apps never pack bytes and never hold a raw server id: the client
looks the server up by name, and when a call comes back E_DEAD (the server
crashed while serving it, or restarted since the id was taken) it looks the
name up again, waiting briefly for the supervisor to start the new
instance, and retries the call once if the op is idempotent. A call that is
not idempotent (a UART write, a toggle, an SPI transaction) is never
repeated behind the app's back: the app gets ServerError(E_DEAD) and
decides.

Errors: a negative rc becomes ServerError(rc); `e.args[0]` is the rc
(abi.E_*), `rc_name(rc)` its name. Non-negative rcs are results.

Invariants:
- At most one retry per call, and only for idempotent ops.
- Each call looks the name up first (a dict lookup, no allocation): a
  server that restarted *between* calls is simply the new id, and nothing
  was lost, so only a crash *during* a call costs the app anything.
- After a call returns, self.dead_seen counts the E_DEAD replies seen so far
  (the chaos app reports it); self.sid is the server id last used;
  reconnected() has run once for every new server instance seen.
"""

from micropython import const


_E_DEAD = const(-1)
_RESTART_WAIT_MS = const(500)  # how long to wait for a new instance after E_DEAD
_POLL_MS = const(5)


class ServerError(Exception):
    """A server (or the kernel) answered with a negative rc: args[0]."""


class Client:
    _ops = "Client"  # the class in clients.more holding this class's rarely used ops

    def __init__(self, k, name, timeout_ms=1000):
        self.k = k
        self.name = name
        self.timeout_ms = timeout_ms
        self.sid = k.lookup(name)
        self.dead_seen = 0  # calls answered E_DEAD (the server died under them)
        self.restarts_seen = 0  # new server instances this client noticed
        if self.sid < 0:
            raise ValueError("no server named " + name)

    async def call(self, op, data=None, lease=None, idempotent=True, timeout_ms=None):
        """Send op/data (and a lease); return the handle (r.rc >= 0, r.rbody).

        Raises ServerError for a negative rc. The reply body stays valid
        until this task's next send.
        """
        k = self.k
        t = self.timeout_ms if timeout_ms is None else timeout_ms
        sid = k.lookup(self.name)
        if sid != self.sid:  # restarted since our last call: nothing was in flight
            self.sid = sid
            self.restarts_seen += 1
            await self.reconnected()
        r = await k.send(self.sid, op, data, lease, t)
        rc = r.rc
        if rc == _E_DEAD:  # it died while serving this very call
            self.dead_seen += 1
            old = self.sid
            waited = 0  # wait (bounded) for the supervisor to start a new instance
            while True:
                sid = k.lookup(self.name)
                if sid != old or waited >= _RESTART_WAIT_MS:
                    break
                await k.sleep_ms(_POLL_MS)
                waited += _POLL_MS
            self.sid = sid
            if sid != old:
                self.restarts_seen += 1
                await self.reconnected()  # its sends reuse the handle r
                if idempotent:
                    if lease is not None and hasattr(lease, "region"):
                        # keep.mem leases end at the reply: re-arm the same one
                        lease = lease.region.lease(lease.off, lease.len, lease.writable, lease)
                    r = await k.send(self.sid, op, data, lease, t)
                    rc = r.rc
                    if rc == _E_DEAD:
                        self.dead_seen += 1
        if rc < 0:
            raise ServerError(rc)
        return r

    def __getattr__(self, name):
        """An op not in the class: a rarely used one (a subscribe, a config),
        kept in clients.more under the class's name (_ops) and loaded the
        first time one is called, so an app that never calls it never pays
        the RAM. Anything else: AttributeError, as usual."""
        from clients import more

        f = getattr(getattr(more, self._ops), name)
        return lambda *a, **kw: f(self, *a, **kw)

    async def reconnected(self):
        """Called once per new server instance, before the next call to it.
        Subclasses re-establish server-side state here (subscriptions)."""
        pass


def rc_name(rc):
    """rc's name; the name table (keep.abinames) loads only when asked."""
    from keep import abinames

    return abinames.RC_NAMES.get(rc, str(rc))
