# Priority inheritance: the classic three-task inversion, and a chain of servers.
import time

from kt import boot, check, done
from keep import kernel, tcb

events = []


async def low_server(k, work):
    while True:
        m = await k.recv()
        for i in range(work):
            await k.yield_()  # the server's work takes several slices
        await k.reply(m.call)
        events.append("served")


async def high_client(k, srv):
    await k.sleep_ms(2)  # let the medium task get going first
    events.append("high sends")
    r = await k.send(srv, 1, None, None, 1000)
    events.append("high replied rc=%d" % r.rc)


async def medium_busy(k, busy_ms):
    # Busy for a time, not a number of slices: a slice costs ~100x more on
    # a board than on the unix port, and 100 ms of slices is plenty for the
    # high client's 2 ms sleep and the server's five slices on either.
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < busy_ms:
        await k.yield_()
    events.append("medium done")


boot()
srv = kernel.spawn(low_server, 6, "low", (5,))
kernel.spawn(high_client, 1, "high", (srv,))
kernel.spawn(medium_busy, 3, "medium", (100,))
kernel.run(until_idle=True)
check(events.index("high replied rc=0") < events.index("medium done"),
      "the high client is served before the medium task finishes: %r" % events)
check(tcb.prio[srv] == 6, "the server drops back to its own priority after replying")

# Transitive: high -> s1 (prio 5) -> s2 (prio 6); both run at 1 while it waits.
boot()
seen = {}


async def s2(k):
    m = await k.recv()
    seen["s2 prio while serving"] = tcb.prio[k.slot]
    await k.yield_()
    await k.reply(m.call)


async def s1(k):
    m = await k.recv()
    seen["s1 prio while serving"] = tcb.prio[k.slot]
    await k.send(k.lookup("s2"), 1)
    await k.reply(m.call)


async def high(k):
    await k.send(k.lookup("s1"), 1)
    seen["after"] = (tcb.prio[0], tcb.prio[1])


kernel.spawn(s1, 5, "s1")
kernel.spawn(s2, 6, "s2")
kernel.spawn(high, 1, "high")
kernel.run(until_idle=True)
check(seen.get("s1 prio while serving") == 1 and seen.get("s2 prio while serving") == 1,
      "inheritance is transitive: %r" % seen)
check(seen.get("after") == (5, 6), "both drop back after replying: %r" % seen)

# A queued (not yet received) request from a more important client raises the server too.
boot()
prios = []


async def busy_server(k):
    await k.sleep_ms(3)
    prios.append(tcb.prio[k.slot])  # the high client is queued by now
    m = await k.recv()
    await k.reply(m.call)
    prios.append(tcb.prio[k.slot])


async def queued_client(k, srv):
    await k.send(srv, 1)


s = kernel.spawn(busy_server, 6, "srv")
kernel.spawn(queued_client, 2, "client", (s,))
kernel.run(until_idle=True)
check(prios == [2, 6], "queued requests raise the server, reply drops it: %r" % prios)
done()
