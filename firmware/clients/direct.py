"""direct: the monolithic build - drivers called in the caller's task.

A table rendered with `keep deploy --monolithic` (keep_host/manifest/
table.py) has no driver server tasks and no supervisor: slot 0 is
system() below, and the drivers (servers.gpio, .uart, .spi, and any task
the manifest marks `driver = true`) are listed in its `drivers` argument.
system() starts each driver's own code - the same module a Keep build runs
as a server task - as a Direct, and points the client libraries at them
(Client.__init__ and Client.call, clients/base.py), so that

    g = Gpio(k); await g.toggle(2)

runs servers.gpio's handler in the app's task, as a call: no message copy
into another task, no context switch, no capability check, no supervisor.
The same app, HAL and client API; only the seam under the clients moves.
This is the build the trade-off bench (bench/tradeoff.py) compares Keep
with; docs/tradeoff.md says what it measures.

How a server runs as a call: its coroutine is started once, at boot, and
stops at its first `await k.recv()`. The Direct is the server's `k` (its
recv, reply, notify, log ...), its message `m` and the reply the client
reads (rc, rbody, rlen): a request sets the message fields and resumes the
coroutine, which handles it and stops at its next recv - one resume per
request. When the handler awaits a real syscall (spi's POLL sleeps 1 ms),
the await passes through to the kernel in the caller's task, as it would
in a monolithic driver; a second caller meanwhile waits its turn (busy).

Faults: an exception in a driver comes out of the client's call in the
caller's task; uncaught, the caller faults, and system() - the only task
the kernel tells - reboots the board: in a monolithic build a driver's
bug is the system's. A driver that faulted stays broken until that reboot
(its coroutine has ended: calls raise OSError, interrupts are dropped).

Interrupts: a driver's pin/UART notifications are posted (keep.irq) to a
slot no task has (31 - the driver's index); system() takes them every
_POLL_MS and runs the driver's forwarding code, which notifies the
subscriber directly (keep.notify.post): the monolithic kernel's bottom half.

Invariants:
- One request at a time per driver (busy); a request is one coroutine
  resume unless the handler itself awaits a syscall.
- Nothing here runs in a Keep build: system() is only in monolithic tables.
"""

from micropython import const

from keep import irq, notify, tcb

_OK = const(0)
_E_DEAD = const(-1)  # abi.E_DEAD
_E_TOOBIG = const(-4)  # abi.E_TOOBIG
_NOTE_FAULT = const(536870912)  # abi.NOTE_FAULT
_FAULTED = const(6)  # abi.ST_FAULTED
_POLL_MS = const(5)  # how often system() takes the drivers' interrupt bits
_AT_RECV = const(0x7E)  # what a driver's recv yields: "this request is done"

drivers = drivers_ = {}  # name -> Direct, set by system() (drivers_: its argument's shadow)
faults = [0]  # faults system() saw (it reboots at the first; tests read it)


def _too_big(d):
    d.rc = _E_TOOBIG
    d.rlen = 0
    return d


def _done(v):
    """An awaitable that completes at once with v (a generator that never yields)."""
    return v
    yield  # never reached: the yield makes this a generator


class Direct:
    """One driver, called in its callers' tasks. See the module docstring."""

    call = 0  # the request being served (m.call); 0: none
    sender = -1
    op = -1
    len = 0
    badge = 0
    lease = None
    bits = 0
    rc = 0
    rlen = 0
    busy = False
    broken = False  # its coroutine ended (it raised): every later call raises OSError
    caller = None  # the handle of the task the driver runs in now

    def __init__(self, name, slot, main, args, badges, max_msg):
        self.name = name
        self.slot = slot  # the irq slot its interrupts are posted to
        self.badges = badges  # caller slot -> badge (the manifest's grants)
        self.body = memoryview(bytearray(max_msg))  # each request is copied here
        self.rbody = memoryview(bytearray(max_msg))  # the driver's replies land here
        self.m = self
        self.coro = main(self, **args)
        if self.coro.send(None) != _AT_RECV:  # its start-up, up to the first recv
            raise OSError("driver %s awaited before its first recv" % name)

    # ---- the client side --------------------------------------------------------
    def serve(self, k, op, data, lease):
        """`await d.serve(k, op, data, lease)`: the request handled in k's
        task; returns self (rc, rbody, rlen, reply_data())."""
        if self.broken:
            raise OSError("driver %s faulted earlier: the board reboots" % self.name)
        while self.busy:  # another task's request is inside the driver (it slept)
            yield from k.yield_()
        self.busy = True
        self.caller = k
        self.call += 1
        self.sender = k.id()
        self.badge = self.badges.get(k.slot, 0)
        self.op = op
        n = 0
        if data is not None:
            n = len(data)
            if n > len(self.body):
                self.busy = False
                return _too_big(self)
            # into the driver's own receive buffer, as the kernel's send does: a
            # driver may keep views of it (flaky builds its reply there)
            self.body[:n] = data
        self.len = n
        self.lease = lease
        if lease is not None:
            lease.grant(k.slot)  # the caller's own region, used in the caller's task
        self.rc = _E_DEAD
        self.rlen = 0
        try:
            y = self.coro.send(None)
            while y != _AT_RECV:  # the handler awaited a syscall: the kernel's, in k's task
                y = self.coro.send((yield y))
        except BaseException:
            self.broken = True  # its coroutine has ended: only a reboot starts it again
            raise
        finally:
            self.busy = False
            if lease is not None:
                lease.end()
        return self

    def interrupt(self, k, bits):
        """The driver's forwarding code for interrupt `bits`, in k's task
        (nothing once it is broken: its caller's fault reboots the board)."""
        if self.broken:
            return
        while self.busy:
            yield from k.yield_()
        self.busy = True
        self.caller = k
        self.sender = -1
        self.call = 0
        self.op = -1
        self.len = 0
        self.lease = None
        self.bits = bits
        try:
            y = self.coro.send(None)
            while y != _AT_RECV:
                y = self.coro.send((yield y))
        except BaseException:
            self.broken = True
            raise
        finally:
            self.busy = False

    def id(self):
        """The driver's own "task id" (k.id() in a task): never a call, so a
        reply to it is a fault."""
        return -2

    def reply_data(self):
        """A bytes copy of the reply body (as task.Handle.reply_data)."""
        return bytes(self.rbody[: self.rlen])

    # ---- the driver side: the syscalls a server makes -------------------------
    def recv(self, *_):
        yield _AT_RECV
        return self

    def reply(self, c, rc, body=None):
        if c != self.call or self.call == 0:  # a second reply, or not a call of ours
            raise OSError("driver %s: reply to %r, not to its request" % (self.name, c))
        self.call = 0
        self.rc = rc
        if body is not None:
            n = len(body)
            self.rbody[:n] = body  # what the kernel copies into the client's reply half
            self.rlen = n
        return _done(_OK)

    def notify(self, tid, bits):
        s = tid & 0xFF
        if tid < 0 or s >= tcb.ntasks or tcb.gen[s] << 8 | s != tid or tcb.state[s] >= _FAULTED:
            return _done(_E_DEAD)
        if bits:
            notify.post(s, bits)
        return _done(_OK)

    def sleep_ms(self, ms):
        return self.caller.sleep_ms(ms)

    def yield_(self):
        return self.caller.yield_()

    def log(self, text):
        return self.caller.log(text)

    def fault(self, reason=None):
        return self.caller.fault(reason)  # a driver's fault is its caller's

    def lookup(self, name):
        return self.caller.lookup(name)


# ---- the clients' seam --------------------------------------------------------
def _init(c, k, name=None, timeout_ms=None):
    """Client.__init__ in a monolithic build: a driver's client holds the
    driver object as its sid; a server that is still a task, its id."""
    try:
        _task_init(c, k, name, timeout_ms)
    except ValueError:  # no task by that name: the drivers have none
        d = drivers.get(c.name)
        if d is None:
            raise
        c.sid = d


async def _call(c, op, data=None, lease=None, idempotent=True, timeout_ms=None):
    """Client.call in a monolithic build: the driver's handler, called here."""
    d = c.sid
    if type(d) is int:
        return await _task_call(c, op, data, lease, idempotent, timeout_ms)
    r = await d.serve(c.k, op, data, lease)
    if r.rc < 0:
        raise _ServerError(r.rc)
    return r


_task_init = _task_call = _ServerError = None


def _seam():
    """Point every client library at the drivers (Client's __init__, call)."""
    global _task_init, _task_call, _ServerError
    from clients import base

    if base.Client.call is not _call:
        _task_init = base.Client.__init__
        _task_call = base.Client.call
        _ServerError = base.ServerError
        base.Client.__init__ = _init
        base.Client.call = _call


def reset():
    """Back to the Keep build's clients (Client's own __init__ and call), no
    drivers: for a process that boots both builds, one after the other."""
    from clients import base

    drivers.clear()
    if _task_init is not None:
        base.Client.__init__ = _task_init
        base.Client.call = _task_call


def start(drv, max_msg=None):
    """Start the drivers of a monolithic table: drv is {name: (module,
    function, args, owns, badges)}; returns the Direct objects by name."""
    import sys

    drivers.clear()
    if max_msg is None:
        max_msg = tcb.max_msg
    i = 0
    for name in drv:
        module, function, args, owns, badges = drv[name]
        __import__(module)
        a = dict(args)
        if owns:
            a["owns"] = owns
        drivers[name] = Direct(name, irq.MAX_SLOTS - 1 - i, getattr(sys.modules[module], function),
                               a, badges, max_msg)
        i += 1
    _seam()
    return drivers


async def system(k, drivers=None, wdt=None, reboot=None, **_):
    """Slot 0 of a monolithic table: start the drivers, run their interrupt
    forwarding, feed the watchdog, and reboot the board at the first fault
    of any task (in a monolithic build there is nothing to restart)."""
    del _
    # drivers None: started already (a bench that wraps each driver's entry)
    ds = tuple((drivers_ if drivers is None else start(drivers)).values())
    while True:
        m = await k.wait(_NOTE_FAULT, _POLL_MS)
        if wdt is not None:
            wdt.feed()
        for d in ds:
            b = irq.take(d.slot)
            if b:
                await d.interrupt(k, b)
        if m.rc == 0 and m.bits & _NOTE_FAULT:
            faults[0] += 1
            s = 1
            while s < tcb.ntasks and tcb.state[s] != _FAULTED:
                s += 1
            await k.log("system: %s faulted: rebooting the board (monolithic build)"
                        % (tcb.name[s] if s < tcb.ntasks else "?"))
            try:
                from runtime import drain

                drain.drain(8)
            except Exception:
                pass
            if reboot is None:
                import hal

                hal.load().reset()
            else:
                reboot()
