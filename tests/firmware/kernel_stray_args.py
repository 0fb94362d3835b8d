# Issue 13, break 4: extra positional arguments replaced the kernel's
# tables. send / recv / reply take the kernel's arrays as trailing defaults
# (read as locals: fast), so `k.reply(c, 0, data, 2)` faulted with
# "TypeError: 'int' object isn't subscriptable", and a task passing arrays
# of its own made the kernel write into them and wake a sleeping task that
# never sent.
#
# Now a stray argument is a badarg fault of the caller, for every syscall,
# and the kernel's tables are never replaced.
from kt import boot, check, done, state
from keep import abi, fault, kernel, tcb

# A stray argument (one, or several) to each syscall, with valid arguments
# before it. The first stray stands where the kernel binds a table.
CALLS = (
    ("send", lambda k, srv, x: k.send(srv, 1, b"x", None, None, *x)),
    ("recv", lambda k, srv, x: k.recv(None, 0, *x)),
    ("reply", lambda k, srv, x: k.reply(-257, 0, None, *x)),
    ("notify", lambda k, srv, x: k.notify(srv, 1, *x)),
    ("wait", lambda k, srv, x: k.wait(1, None, *x)),
    ("sleep_ms", lambda k, srv, x: k.sleep_ms(1, *x)),
    ("yield_", lambda k, srv, x: k.yield_(*x)),
    ("log", lambda k, srv, x: k.log(b"x", *x)),
    ("fault", lambda k, srv, x: k.fault("x", *x)),
)
STRAYS = ((2,), (0, 0, 0), (bytearray(16), bytearray(16)))
WANT = sorted(repr(x) for x in ("served", ("good", 0, b"ok"), "sleeper woke on time"))

log = []
for what, call in CALLS:
    for extra in STRAYS:
        boot()
        log.clear()

        async def server(k):
            m = await k.recv()
            await k.reply(m.call, 0, b"ok")
            log.append("served")

        async def sleeper(k):
            await k.sleep_ms(10)
            log.append("sleeper woke on time")

        async def bad(k, srv, call=call, extra=extra):
            await call(k, srv, extra)
            log.append("bad resumed")

        async def good(k, srv):
            r = await k.send(srv, 1, b"g")
            log.append(("good", r.rc, r.reply_data()))

        srv = kernel.spawn(server, 1, "srv")
        sl = kernel.spawn(sleeper, 2, "sleeper")
        b = kernel.spawn(bad, 3, "bad", (srv,))
        kernel.spawn(good, 4, "good", (srv,))
        kernel.run(until_idle=True)
        tag = "%s with %d stray argument(s)" % (what, len(extra))
        rec = fault.records.get(b)
        check(rec is not None and rec.kind == abi.F_BADARG, tag + ": a badarg fault of the caller: %s"
              % (rec and rec.text()))
        check(len(fault.records) == 1, tag + ": nobody else faulted")
        check(sorted(repr(x) for x in log) == WANT,
              tag + ": the others run as if nothing happened: %r" % log)
        check(all(x == 0 for x in extra[0]) if isinstance(extra[0], bytearray) else True,
              tag + ": the kernel wrote nothing into the task's arrays")
        check(state(sl) == "done" and tcb.nxt[sl] != sl, tag + ": queues intact")
done()
