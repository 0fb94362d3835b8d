# Every blocking call takes a timeout; a late reply is dropped, never misdelivered.
from kt import boot, check, done, recs, state
from keep import abi, kernel, tcb

boot()
log = []


async def slow(k):
    m = await k.recv()
    first = m.call
    await k.sleep_ms(30)  # the client gives up meanwhile
    log.append(("late reply rc", await k.reply(first, 0, b"late")))
    m = await k.recv(10)
    log.append(("recv timeout", m.rc, m.sender))


async def impatient(k, s):
    r = await k.send(s, 1, b"x", None, 5)
    log.append(("in_reply timeout", r.rc, r.rlen))


async def queued(k, s):
    await k.sleep_ms(1)
    r = await k.send(s, 1, b"y", None, 5)  # the server is busy sleeping: times out while queued
    log.append(("in_send timeout", r.rc))


s = kernel.spawn(slow, 2, "slow")
kernel.spawn(impatient, 3, "impatient", (s,))
kernel.spawn(queued, 3, "queued", (s,))
kernel.run(until_idle=True)
check(("in_reply timeout", abi.E_TIMEOUT, 0) in log, "timeout while the server holds the message: %r" % log)
check(("in_send timeout", abi.E_TIMEOUT) in log, "timeout while queued: %r" % log)
check(("late reply rc", 0) in log, "a late reply is not the server's fault")
check(("recv timeout", abi.E_TIMEOUT, -1) in log, "recv times out")
dropped = [r for r in recs(abi.TR_REPLY) if r[3] & 0x10000]
check(len(dropped) == 1, "the late reply is traced as dropped")
check(tcb.sq_head[s] == 0xFF, "the timed-out sender left the queue")
check(len(recs(abi.TR_TIMEOUT)) == 3, "timeouts traced: %d" % len(recs(abi.TR_TIMEOUT)))
check(state(s) == "done", "server finished normally")
done()
