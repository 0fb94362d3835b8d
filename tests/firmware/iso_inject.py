# heapsize: 192K
# (160K is too little to compile keep/task.py, the one syscall surface, from source.)
# runtime.inject (what the console's fault/hold/release commands call): every
# kind reaches the supervisor like a real fault; stale makes old ids E_DEAD;
# malformed corrupts a queued message; refusals for the supervisor, unknown
# tasks and calls made during a slice.
from iso_util import boot, drain_logs, frec, run_until, state

from keep import abi, kernel, mem, svc
from runtime import inject
from servers import supervisor as sv

boot()
mem.init(1024, "sim")
got = []


async def srv(k):
    while True:
        m = await k.recv()
        await k.reply(m.call, abi.E_NOTSUP if m.op == 0xEE else 0, m.body[:m.len])


async def cli(k):
    old = k.lookup("srv")
    await k.send(old, 1, b"a")
    got.append(("first", k.rc))
    await k.sleep_ms(30)
    await k.send(old, 1, b"b")
    got.append(("old id", k.rc))
    await k.send(k.lookup("srv"), 1, b"c")
    got.append(("new id", k.rc))
    got.append(("inside a slice", inject.inject("srv", "exception"), inject.last))


async def queued(k):
    await k.sleep_ms(40)
    await k.send(k.lookup("srv"), 1, b"hello")
    got.append(("queued", k.rc, k.reply_data()))


kernel.spawn(sv.main, 0, "supervisor", args=dict(backoff_ms=0, backoff_max_ms=0))
svc.set_supervisor(0)
kernel.spawn(srv, 3, "srv")
kernel.spawn(cli, 4, "cli")
kernel.spawn(queued, 2, "queued")
run_until(lambda: state(1) == "in_recv")  # a board, or a loaded machine, takes longer
for kind in ("exception", "memory", "budget", "injected"):
    print(kind, inject.inject("srv", kind), inject.last, frec(1))
    run_until(lambda: state(1) == "in_recv")  # restarted, and waiting again
    print("  ->", state(1))
print("stale", inject.inject(1, "stale"), inject.last)
# until cli (30 ms sleep) and queued (40 ms) have made their calls
run_until(lambda: state(2) == "done" and state(3) == "done")
print("hold", inject.hold("srv"), state(1))
kernel.run(duration_ms=15)
print("release", inject.release("srv"), state(1))
kernel.run(duration_ms=20)
print("bad kind", inject.inject("srv", "nope"), inject.last)
print("no task", inject.inject("ghost"), inject.last)
print("supervisor", inject.inject(0), inject.last)
print("no queue", inject.inject("srv", "malformed"), inject.last)
for g in sorted(got, key=lambda g: g[0]):  # cli's and queued's calls interleave by speed
    print(g)
print([line for _s, line in drain_logs(0)])


# malformed: a message queued at a busy server is corrupted in flight. slow
# holds each request until the test lets it go (busy[0] = False), not for a
# time: on a loaded machine one run() step can outlast any fixed sleep, and
# b would be served before the test looks.
busy = [True]


async def slow(k):
    while True:
        m = await k.recv()
        while busy[0]:
            await k.sleep_ms(1)
        await k.reply(m.call, abi.E_NOTSUP if m.op == 0xEE else 0, m.body[:m.len])


async def two(k, tag):
    await k.send(k.lookup("slow"), 1, tag)
    got.append((tag, k.rc, k.reply_data()))


got.clear()
boot()
kernel.spawn(sv.main, 0, "supervisor")
svc.set_supervisor(0)
kernel.spawn(slow, 3, "slow")
kernel.spawn(two, 4, "a", args=(b"first",))
kernel.spawn(two, 4, "b", args=(b"second",))
run_until(lambda: state(2) == "in_reply" and state(3) == "in_send")  # b queued behind a
print("malformed", inject.inject("slow", "malformed"), inject.last)
busy[0] = False
run_until(lambda: state(2) == "done" and state(3) == "done")
for g in got:
    print(g)
