# heapsize: 192K
# Issue 13, break 5: `sleep_ms` and `log` allocated (an import inside the
# function; bytes passed to log). Every syscall, in the outcomes a task
# meets in steady state, runs here under micropython.heap_lock(): any
# allocation raises MemoryError inside the kernel or the task, which faults
# it and shows up below (fault() itself: kernel_faults.py). Each task makes its calls N + 1 times: the first
# pass unlocked (first use may create attributes), the others locked. The
# lock is global, so a task locks only after a sleep that lets the others
# finish their first pass (lock depth counts: each task unlocks its own).
import micropython

from kt import boot, check, done
from keep import abi, caps, fault, kernel

N = 20
done_ = {}


def unlock(name):
    micropython.heap_unlock()
    done_[name] = 1  # the key exists (run): other tasks may still hold the lock


def finished():
    return sorted(n for n in done_ if done_[n])


def run(tasks, grants=None):
    """tasks: (fn, prio, name, args); run until idle."""
    boot(trace_records=2048)
    done_.clear()
    for fn, prio, name, args in tasks:
        kernel.spawn(fn, prio, name, args)
        done_[name] = 0
    if grants is not None:
        caps.load(grants)
    kernel.run(until_idle=True)
    unlock_all()  # a task that faulted with the heap locked left it so


def unlock_all():
    """Undo every heap_lock(); heap_unlock() returns the depth left, and
    below 0 wraps to 32767 (then one heap_lock() puts it back to 0)."""
    while True:
        d = micropython.heap_unlock()
        if d == 0:
            return
        if d > 1000:
            micropython.heap_lock()
            return


def no_faults(what):
    check(not fault.records, "%s: no task faulted: %r" % (
        what, [r.text() for r in fault.records.values()]))


# -- sleep_ms, yield_, log (bytes; a str is documented to cost a copy) -------
async def sleepy(k):
    line = b"a log line of bytes"
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        await k.sleep_ms(1)
        await k.sleep_ms(0)
        await k.yield_()
        await k.log(line)
    unlock("sleepy")


run([(sleepy, 2, "sleepy", ())])
no_faults("sleep_ms / yield_ / log(bytes)")
check(finished() == ["sleepy"], "sleep_ms, yield_ and log(bytes) under heap_lock: %r" % done_)


# -- send / recv / reply: delivered at once, refused, late replies dropped ---
# (The heap lock is global: while one client holds it every task runs
# locked, so the servers too avoid what allocates, such as slicing m.body.)
ANSWER = b"0123456789ABCDEF"


async def server(k):
    while True:
        m = await k.recv()
        if m.op == 2:  # hold it until the client gave up, answer late (dropped)
            c = m.call
            await k.sleep_ms(3)
            await k.reply(c, 0, b"late")
        else:
            await k.reply(m.call, 0, ANSWER)


async def direct(k, srv):
    data = b"0123456789abcdef"
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        r = await k.send(srv, 1, data)  # the server waits in recv
        assert r.rc == 0 and r.rlen == 16
    unlock("direct")


async def late(k, srv):
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        r = await k.send(srv, 2, b"x", None, 1)  # times out; the reply comes late
        assert r.rc == abi.E_TIMEOUT
    unlock("late")


async def refused(k, srv):
    big = bytes(65)
    stale = srv | 7 << 8
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        r = await k.send(stale, 1)  # stale generation
        assert r.rc == abi.E_DEAD
        r = await k.send(srv, 1, big)
        assert r.rc == abi.E_TOOBIG
    unlock("refused")


run([(server, 1, "srv", ()),
     (direct, 2, "direct", (0,)),
     (late, 2, "late", (0,)),
     (refused, 2, "refused", (0,))])
no_faults("send / recv / reply")
check(finished() == ["direct", "late", "refused"], "round trips under heap_lock: %r" % done_)


# -- a queued send: the server is busy when the message arrives, so it is
# copied at send into the client's reply buffer, and at recv from there.
async def busy_server(k):
    while True:
        await k.yield_()  # the clients queue meanwhile
        m = await k.recv()
        await k.reply(m.call, 0, QUEUED)


QUEUED = b"queued message"


async def queued(k, srv, name):
    data = QUEUED
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        r = await k.send(srv, 1, data)
        assert r.rc == 0 and r.rlen == 14
    unlock(name)


run([(busy_server, 3, "busy", ()),
     (queued, 3, "queued_a", (0, "queued_a")),
     (queued, 3, "queued_b", (0, "queued_b"))])
no_faults("queued send")
check(finished() == ["queued_a", "queued_b"], "queued sends under heap_lock: %r" % done_)


# -- recv / wait timeouts, notify -> wait and recv(mask), E_DEAD -------------
async def timeouts(k):
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        m = await k.recv(1)
        assert m.rc == abi.E_TIMEOUT
        m = await k.wait(1, 1)
        assert m.rc == abi.E_TIMEOUT
    unlock("timeouts")


async def woken(k):
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        m = await k.wait(1 << 3)
        assert m.bits == 1 << 3
        m = await k.recv(None, 1 << 4)
        assert m.bits == 1 << 4 and m.sender == -1
    unlock("woken")


async def poster(k, w):
    stale = w | 9 << 8
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        assert await k.notify(w, 1 << 3) == 0
        assert await k.notify(w, 1 << 4) == 0
        assert await k.notify(stale, 1) == abi.E_DEAD
    unlock("poster")


run([(timeouts, 2, "timeouts", ()),
     (woken, 1, "woken", ()),
     (poster, 3, "poster", (1,))])
no_faults("notify / wait / recv(mask) / timeouts")
check(finished() == ["poster", "timeouts", "woken"], "notifications under heap_lock: %r" % done_)


# -- E_DENIED: a manifest that grants nothing ---------------------------------
async def denied(k):
    for i in range(N + 1):
        if i == 1:
            await k.sleep_ms(10)  # every task's first pass is over
            micropython.heap_lock()
        assert await k.notify(1, 1) == abi.E_DENIED
        r = await k.send(1, 1)
        assert r.rc == abi.E_DENIED
    unlock("denied")


async def idle(k):
    await k.wait(1)


run([(denied, 2, "denied", ()), (idle, 3, "idle", ())], grants=[(), ()])
no_faults("E_DENIED")
check(finished() == ["denied"], "denied send and notify under heap_lock: %r" % done_)


# fault(): tests/firmware/kernel_faults.py faults a task with the heap
# locked, by an exception and by k.fault().
done()
