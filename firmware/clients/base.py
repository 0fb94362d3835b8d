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
(abi.E_*), and keep.abinames.RC_NAMES its name. Non-negative rcs are results.

Invariants:
- At most one retry per call, and only for idempotent ops.
- Each call looks the name up first (k.lookup, no allocation): a
  server that restarted *between* calls is simply the new id, and nothing
  was lost, so only a crash *during* a call costs the app anything.
- After a call returns, self.dead_seen counts the E_DEAD replies seen so far
  (the chaos app reports it); self.sid is the server id last used;
  reconnected() has run once for every new server instance seen.
- Server-side state a client set (gpio subscriptions, the uart
  subscription, the spi CONFIG) is kept as the requests that set it
  (remember(), into self._resend), and reconnected() sends them to each
  new instance.

RAM (each object here is live for as long as the app runs): an instance
holds only k and sid, and name when it is not the class's. Everything with
a usual value (timeout_ms, the counters, _resend) is a class attribute
until an instance sets its own, as keep.task.Handle's rc is: each one set
is an entry in the instance's hash map, and two fit the smallest. Ops pack
their few request bytes into a fresh bytes or bytearray: as much garbage
per call as the two memoryviews that sliced a kept buffer did, and no
buffer kept between calls. call() keeps few locals: its frame is live
under every call.
"""

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

_E_DEAD = const(-1)
_RESTART_WAIT_MS = const(500)  # how long to wait for a new instance after E_DEAD
_POLL_MS = const(5)


class ServerError(Exception):
    """A server (or the kernel) answered with a negative rc: args[0]."""


class Client:
    # Defaults an instance overrides only when it must (see RAM above); a
    # subclass names its server here (name = "gpio") and needs no __init__.
    timeout_ms = 1000
    dead_seen = 0  # calls answered E_DEAD (the server died under them)
    restarts_seen = 0  # new server instances this client noticed
    _resend = None  # key -> (op, body): state a new server instance is sent again

    def __init__(self, k, name=None, timeout_ms=None):
        self.k = k
        if name is not None:
            self.name = name
        if timeout_ms is not None:
            self.timeout_ms = timeout_ms
        self.sid = k.lookup(self.name)
        if self.sid < 0:
            raise ValueError("no server", self.name)  # a short text is a qstr, not a heap str

    async def call(self, op, data=None, lease=None, idempotent=True, timeout_ms=None):
        """Send op/data (and a lease); return the handle (r.rc >= 0, r.rbody).

        Raises ServerError for a negative rc. The reply body stays valid
        until this task's next send.
        """
        # Few locals: this frame is live under every call, 8 bytes a local.
        # k.send returns the handle k itself (keep.task): k.rc is the reply.
        k = self.k
        if timeout_ms is None:
            timeout_ms = self.timeout_ms
        sid = k.lookup(self.name)
        if sid != self.sid:  # restarted since our last call: nothing was in flight
            self.sid = sid
            self.restarts_seen += 1
            await self.reconnected()
        await k.send(self.sid, op, data, lease, timeout_ms)
        rc = k.rc
        if rc == _E_DEAD:  # it died while serving this very call
            self.dead_seen += 1
            waited = 0  # wait (bounded) for the supervisor to start a new instance
            while True:
                sid = k.lookup(self.name)
                if sid != self.sid or waited >= _RESTART_WAIT_MS:
                    break
                await k.sleep_ms(_POLL_MS)
                waited += _POLL_MS
            if sid != self.sid:
                self.sid = sid
                self.restarts_seen += 1
                await self.reconnected()  # its sends reuse k: rc keeps this call's
                if idempotent:
                    if lease is not None and hasattr(lease, "region"):
                        # keep.mem leases end at the reply: re-arm the same one
                        lease = lease.region.lease(lease.off, lease.len, lease.writable, lease)
                    await k.send(self.sid, op, data, lease, timeout_ms)
                    rc = k.rc
                    if rc == _E_DEAD:
                        self.dead_seen += 1
        if rc < 0:
            raise ServerError(rc)
        return k

    def remember(self, key, op, body):
        """Keep the request (op, body) that set server-side state under key,
        for reconnected() to send to a new server instance; body None
        forgets it (the state was cleared)."""
        if self._resend is None:
            self._resend = {}
        if body is None:
            self._resend.pop(key, None)
        else:
            self._resend[key] = (op, body)

    async def reconnected(self):
        """Called once per new server instance, before the next call to it:
        sends it again the requests that set the client's server-side state
        (a restarted server starts with none), kept in self._resend by the
        ops that made them (gpio subscriptions, the uart subscription, the
        spi CONFIG). A subclass with other state overrides this."""
        if self._resend:
            for op, body in self._resend.values():
                await self.call(op, body)
