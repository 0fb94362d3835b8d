# Issue 13, break 3: syscalls did not check who calls them. A task calling
# send on another task's handle faulted the owner ("misuse fault
# (sleeping)"); reached through tcb.handle, the same mistake queued the
# victim twice (nxt[s] == s) and the scheduler looped on that slot forever.
#
# Now a syscall on a handle the running task does not own faults the caller
# (misuse) and changes nothing else: the owner keeps its state, its queue
# links and its pending syscall, and carries on.
from kt import boot, check, done, state
from keep import abi, fault, kernel, svc, tcb

CALLS = (
    ("send", lambda h, s: h.send(s, 1, b"x")),
    ("recv", lambda h, s: h.recv(0)),
    ("reply", lambda h, s: h.reply(-257)),
    ("notify", lambda h, s: h.notify(s, 1)),
    ("wait", lambda h, s: h.wait(1, 0)),
    ("sleep_ms", lambda h, s: h.sleep_ms(1)),
    ("yield_", lambda h, s: h.yield_()),
    ("log", lambda h, s: h.log(b"x")),
    ("fault", lambda h, s: h.fault("x")),
)

# Each syscall, on the handle of a victim in each situation: sleeping (the
# issue's repro), queued in the ready queue, never started yet (its handle
# reached through tcb.handle before its first slice).
log = []
for victim_kind in ("sleeping", "ready", "fresh"):
    for what, call in CALLS:
        boot()
        log.clear()

        async def server(k):
            while True:
                m = await k.recv()
                await k.reply(m.call, 0, b"ok")

        async def victim(k, srv, kind=victim_kind):
            if kind == "sleeping":
                await k.sleep_ms(5)
            elif kind == "ready":
                await k.yield_()
            r = await k.send(srv, 1, b"v")
            log.append(("victim", r.rc, r.reply_data()))

        async def attacker(k, v, srv, call=call, kind=victim_kind):
            if kind == "sleeping":
                await k.yield_()  # the victim is asleep now
            h = tcb.handle[v & 0xFF]
            before = (tcb.state[v], tcb.nxt[v], h._p)
            await call(h, srv)
            log.append("attacker resumed")
            log.append(before)

        srv = kernel.spawn(server, 1, "srv")
        if victim_kind == "fresh":  # the attacker runs first, the victim later
            a = kernel.spawn(attacker, 2, "attacker", (2, srv))
            v = kernel.spawn(victim, 3, "victim", (srv,))
        elif victim_kind == "ready":  # same priority: the victim yields to it
            v = kernel.spawn(victim, 3, "victim", (srv,))
            a = kernel.spawn(attacker, 3, "attacker", (v, srv))
        else:
            v = kernel.spawn(victim, 2, "victim", (srv,))
            a = kernel.spawn(attacker, 3, "attacker", (v, srv))
        kernel.run(until_idle=True)
        tag = "%s on a %s task's handle" % (what, victim_kind)
        rec = fault.records.get(a)
        check(rec is not None and rec.kind == abi.F_MISUSE, tag + ": the caller is faulted (misuse)")
        check("attacker resumed" not in log, tag + ": the caller never resumes")
        check(("victim", 0, b"ok") in log and state(v) == "done",
              tag + ": the owner carries on: %r %s" % (log, state(v)))
        check(v not in fault.records and state(srv) == "in_recv", tag + ": nobody else faulted")

# Supervisor calls on the supervisor's handle, from another task.
boot()
log.clear()


async def sup(k):
    await k.wait(abi.NOTE_TIMER)


async def target(k):
    await k.sleep_ms(5)
    log.append("target ran to the end")


async def usurper(k, t):
    h = tcb.handle[0]  # the supervisor's
    log.append(("refused", h.sv_hold(t & 0xFF)))  # (not awaited: it stops at its next await)
    await k.yield_()
    log.append("usurper resumed")


svc.set_supervisor(kernel.spawn(sup, 1, "sup"))
t = kernel.spawn(target, 2, "target")
u = kernel.spawn(usurper, 3, "usurper", (t,))
kernel.run(until_idle=True)
check(state(u) == "faulted" and fault.records[u].kind == abi.F_MISUSE,
      "a supervisor call on the supervisor's handle from another task faults the caller")
check(log == [("refused", -1), "target ran to the end"], "and does nothing: %r" % log)
check(state(0) == "in_wait", "the supervisor is untouched")

# Outside any task (kernel not running) there is no caller to fault.
boot()


async def idle(k):
    await k.recv()


i = kernel.spawn(idle, 1, "idle")
kernel.run(until_idle=True)
p = tcb.handle[i]._p
try:
    tcb.handle[i].notify(i, 1)
    raised = False
except RuntimeError:
    raised = True
check(raised, "a syscall outside any task raises RuntimeError")
check(tcb.handle[i]._p == p and state(i) == "in_recv" and tcb.notes[i] == 0,
      "and changes nothing")
done()
