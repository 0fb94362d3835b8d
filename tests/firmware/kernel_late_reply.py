# Issue 13, break 1: a late reply answered the wrong call. A server's debt
# was one bit per client slot and reply() named only the client, so after
# a timeout the reply to the first request answered the second one, and
# the real reply then faulted the server (badreply).
#
# Now every message carries its call id (m.call) and reply() names it: a
# reply reaches the client only while that exact call waits; a reply to a
# call that timed out, was withdrawn (client faulted or held) or whose
# client restarted is dropped and traced (TR_REPLY with 0x10000), never
# delivered to a later call and never the server's fault.
from kt import boot, check, done, recs, state
from keep import abi, fault, kernel, svc

DROPPED = 0x10000


def dropped():
    return len([r for r in recs(abi.TR_REPLY) if r[3] & DROPPED])


# 1. The repro: req-1 times out, req-2 follows, the server answers
#    req-1 late and then req-2.
boot()
log = []


async def slow_server(k):
    m = await k.recv()
    first = m.call
    await k.sleep_ms(20)  # the client gives up on req-1 meanwhile
    m = await k.recv()  # req-2
    second = m.call
    check(first != second, "two calls of one client have two ids")
    log.append(("late", await k.reply(first, 11, b"ANSWER-1")))
    log.append(("real", await k.reply(second, 22, b"ANSWER-2")))


async def client(k, srv):
    r = await k.send(srv, 1, b"req-1", None, 5)
    log.append(("req-1", r.rc))
    r = await k.send(srv, 2, b"req-2", None, 200)
    log.append(("req-2", r.rc, r.reply_data()))


s = kernel.spawn(slow_server, 2, "srv")
kernel.spawn(client, 3, "client", (s,))
kernel.run(until_idle=True)
check(("req-1", abi.E_TIMEOUT) in log, "req-1 timed out: %r" % log)
check(("req-2", 22, b"ANSWER-2") in log, "req-2 gets its own answer, not req-1's: %r" % log)
check(("late", 0) in log and ("real", 0) in log, "both replies return OK to the server: %r" % log)
check(not fault.records, "nobody faulted: %r" % [r.text() for r in fault.records.values()])
check(dropped() == 1, "the late reply is traced as dropped")

# 2. Variant: the server answers req-2 first, then the late reply to req-1.
boot()
log = []


async def reverse_server(k):
    m = await k.recv()
    first = m.call
    await k.sleep_ms(20)
    m = await k.recv()
    log.append(("real", await k.reply(m.call, 22, b"ANSWER-2")))
    log.append(("late", await k.reply(first, 11, b"ANSWER-1")))
    await k.recv()  # stays alive: a fault would show as `faulted`


s = kernel.spawn(reverse_server, 2, "srv")
kernel.spawn(client, 3, "client", (s,))
kernel.run(until_idle=True)
check(("req-2", 22, b"ANSWER-2") in log, "req-2 answered: %r" % log)
check(("late", 0) in log, "the late reply after it is dropped, not a fault: %r" % log)
check(state(s) == "in_recv" and not fault.records, "the server did not fault")
check(dropped() == 1, "traced as dropped")

# 3. Variant: the client restarts between two requests.
boot()
log = []
held = []


async def holding_server(k):
    m = await k.recv()
    held.append(m.call)  # the old instance's call
    m = await k.recv()  # the new instance's call
    log.append(("old", await k.reply(held[0], 11, b"OLD")))
    log.append(("new", await k.reply(m.call, 22, b"NEW")))
    await k.recv()


async def restarted(k, srv):
    r = await k.send(srv, 1, b"call")
    log.append(("got", r.rc, r.reply_data()))


async def sup(k, c):
    await k.yield_()  # the client has sent and waits
    k.sv_restart(c)


s = kernel.spawn(holding_server, 3, "srv")
c = kernel.spawn(restarted, 4, "client", (s,))
svc.set_supervisor(kernel.spawn(sup, 5, "sup", (c,)))
kernel.run(until_idle=True)
check(("old", 0) in log and ("new", 0) in log, "both replies OK for the server: %r" % log)
check(log.count(("got", 22, b"NEW")) == 1 and ("got", 11, b"OLD") not in log,
      "the new instance gets only its own answer: %r" % log)
check(state(s) == "in_recv", "the server did not fault: %s" % state(s))
check(dropped() == 1, "the reply to the old instance is dropped")

# 4. Withdrawn calls: the client faults, or is held, while the server holds
#    its call; a reply to it is dropped.
boot()
log = []


# The steps wait for each other, not for a time: on the emulated Pico a
# millisecond is a few hundred bytecodes, less than spawning takes.
calls = []
acted = []


async def batch_server(k):
    for _ in range(2):
        m = await k.recv()
        calls.append(m.call)
    while not acted:  # meanwhile one client faults, the other is held
        await k.sleep_ms(1)
    for c in calls:
        log.append(await k.reply(c, 0, b"x"))
    await k.recv()


async def doomed(k, srv):
    await k.send(srv, 1)


async def killer(k, a, b):
    while len(calls) < 2:  # the server holds both calls
        await k.sleep_ms(1)
    k.sv_inject(a & 0xFF)
    k.sv_hold(b & 0xFF)
    acted.append(1)


s = kernel.spawn(batch_server, 2, "srv")
a = kernel.spawn(doomed, 3, "a", (s,))
b = kernel.spawn(doomed, 3, "b", (s,))
svc.set_supervisor(kernel.spawn(killer, 1, "killer", (a, b)))
kernel.run(until_idle=True)
check(log == [0, 0], "replies to withdrawn calls return OK: %r" % log)
check(state(s) == "in_recv", "the server did not fault")
check(dropped() == 2, "both are traced as dropped")

# 5. What is still a fault: a second reply to an answered call, a reply
#    that names a task id (m.sender) instead of a call, a call id never given.
for what, how in (("double", "double"), ("task id", "sender"), ("bogus", "bogus")):
    boot()

    async def wrong(k, how=how):
        m = await k.recv()
        if how == "double":
            await k.reply(m.call)
            await k.reply(m.call)
        elif how == "sender":
            await k.reply(m.sender)
        else:
            await k.reply(~(1 << 8 | 9))  # slot 9 holds no task

    async def asker(k, srv):
        await k.send(srv, 1)

    w = kernel.spawn(wrong, 2, "wrong")
    kernel.spawn(asker, 3, "asker", (w,))
    kernel.run(until_idle=True)
    rec = fault.records.get(w)
    check(rec is not None and rec.kind == abi.F_BADREPLY, what + ": badreply fault of the server")
    if how == "sender":
        check("m.call" in rec.text(), "the fault says to reply to m.call: %r" % rec.text())
done()
