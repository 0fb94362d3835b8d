# Found by fuzz_kernel.py (seeds 60/61/63/72 of the --avoid-known campaign):
# a send to a server that is itself blocked in a call (in_reply) to a task
# that is back in recv is delivered to the *blocked server* and wakes it.
# the send syscall's deadlock walk (keep/task.py) leaves `ts` = the state of the END of the chain
# and then tests `ts == IN_RECV` as if it were the state of `dest`.
# Expected (docs/kernel.md): the message queues at b (a is in_send) and b
# stays in_reply to c. Failed until send checked state[dest] itself.
from kt import check, done
from keep import abi, kernel, tcb

kernel.boot()
log = []


async def c(k):
    await k.recv()  # takes b's call and never replies
    await k.recv()  # in_recv again, still owes b a reply


async def b(k, c):
    r = await k.send(c, 1, b"b")
    log.append(("b resumed", r.rc))


async def a(k, b):
    r = await k.send(b, 2, b"a")
    log.append(("a resumed", r.rc))


C = kernel.spawn(c, 1, "c")
B = kernel.spawn(b, 2, "b", (C,))
A = kernel.spawn(a, 3, "a", (B,))
kernel.run(until_idle=True)
check(tcb.state[B] == abi.ST_IN_REPLY, "b is still in_reply to c (state %d, log %r)" % (tcb.state[B], log))
check(tcb.state[A] == abi.ST_IN_SEND and tcb.peer[A] == B, "a is queued at b (state %d)" % tcb.state[A])
check(log == [], "nobody was woken: %r" % log)
done()
