# One syscall surface (issue 13): the Handle class defines every syscall
# itself, so the set a task gets does not depend on which kernel modules
# were imported first (before, keep.kernel, keep.svc and keep.mem attached
# them, and a task handle made with only keep.task loaded had none).
# Every syscall has its abi.SYS_* number; tests/host/test_syscall_surface.py
# checks the table, abi.py and docs/kernel.md against each other.
import sys

first = "keep.kernel" not in sys.modules and "keep.svc" not in sys.modules

from keep import task  # noqa: E402  (only keep.task and what it imports)

CONVENIENCE = ("reply_data", "rbuf", "id")  # methods that are not syscalls (views and copies)


def syscalls():
    return sorted(n for n, v in task.Handle.__dict__.items()
                  if not n.startswith("_") and callable(v) and n not in CONVENIENCE)


alone = syscalls()
mem_loaded = "keep.mem" in sys.modules

from keep import abi, kernel, mem, svc  # noqa: E402,F401
from kt import boot, check, done, state  # noqa: E402

check(first, "the test started with no kernel module loaded")
check(not mem_loaded, "keep.task does not load keep.mem (apps without regions never do)")
check(syscalls() == alone, "the syscall set changed when keep.kernel / keep.mem loaded: %r vs %r"
      % (alone, syscalls()))


def abi_name(n):
    return "SYS_" + n.upper().rstrip("_").replace("_MS", "")


numbers = sorted(getattr(abi, abi_name(n), -1) for n in alone)
want = sorted(v for k, v in abi.__dict__.items() if k.startswith("SYS_"))
check(-1 not in numbers, "every syscall has an abi.SYS_* number: %r" % alone)
check(numbers == want, "every abi.SYS_* number is a syscall: %r vs %r" % (numbers, want))
print("syscalls", len(alone), " ".join(alone))

# A handle made right after boot, before any task ran, already has them all.
boot()
out = []


async def t(k):
    out.append(k.lookup("t") == k.id())
    await k.yield_()
    await k.sleep_ms(0)
    await k.log(b"surface")
    out.append(await k.notify(k.id(), 1))
    m = await k.wait(1, 10)
    out.append(m.bits)


kernel.spawn(t, name="t")
kernel.run(until_idle=True)
check(out == [True, 0, 1], "a task uses the surface: %r" % out)

# ---- sv_task: the supervisor reads a task's state (docs/kernel.md) ---------------
import micropython  # noqa: E402

from keep import fault, tcb  # noqa: E402

seen = []


async def server(k):
    m = await k.recv()
    await k.sleep_ms(200)  # holds the first call: the second client queues
    await k.reply(m.call)
    m = await k.recv()
    await k.reply(m.call)


async def client(k):
    await k.send(k.lookup("server"), 1)


async def crash(k):
    raise ValueError("crash")


async def watcher(k):
    await k.sleep_ms(5)  # the clients are queued / holding, the crash has happened
    ts = k.sv_task(1)
    # (sleeping, or runnable if a slow board got past its sleep first: the
    # watcher is more important, so the server has not run again either way)
    st = "holding" if state(1) in ("sleeping", "runnable") else state(1)
    seen.append((ts.ntasks, ts.name, st, ts.state == tcb.state[1], ts.recvs, ts.queued, ts.gen,
                 ts.restarts))
    ts = k.sv_task(4)
    seen.append((ts.name, ts.state == abi.ST_FAULTED, ts.fault.kind == abi.F_SELF
                 if ts.fault else None))
    ts = k.sv_task(0)
    seen.append((ts.name, ts.queued, ts.fault))
    # Every later call refills the one record: nothing allocates.
    micropython.heap_lock()
    try:
        ok = True
        for s in range(5):
            ok = ok and k.sv_task(s).name == tcb.name[s]
    finally:
        micropython.heap_unlock()
    seen.append(ok)
    k.sv_restart(4)
    ts = k.sv_task(4)
    seen.append((ts.gen, ts.restarts, ts.fault is None or ts.fault.kind == abi.F_SELF))


boot()
svc.set_supervisor(kernel.spawn(watcher, 0, "sup"))
kernel.spawn(server, 1, "server")
kernel.spawn(client, 2, "c1")
kernel.spawn(client, 2, "c2")
kernel.spawn(crash, 2, "crash")
kernel.run(until_idle=True)  # (no fixed duration: an emulated board is slower)
check(len(seen) == 5, "sv_task: the supervisor ran to the end: %r" % seen)
check(seen[0] == (5, "server", "holding", True, 1, True, 0, 0),
      "sv_task(server): ntasks, name, state, recvs, a client queued, gen: %r" % (seen[0],))
check(seen[1] == ("crash", True, False), "sv_task(crash): faulted, its record: %r" % (seen[1],))
check(seen[2] == ("sup", False, None), "sv_task(0): the supervisor itself: %r" % (seen[2],))
check(seen[3] is True, "sv_task allocates nothing after its first call (heap locked)")
check(seen[4][:2] == (1, 1), "sv_task after sv_restart: the new generation: %r" % (seen[4],))

# Misuse: a task that is not the supervisor (badarg), a bad slot (badarg),
# the supervisor's handle from another task (misuse): the caller faults,
# gets None, and nobody else is touched.
log = []


async def sup_idle(k):
    await k.wait(abi.NOTE_TIMER, 100)


async def not_sup(k):
    log.append(k.sv_task(0))
    await k.yield_()
    log.append("not_sup resumed")


async def bad_slot(k):
    log.append(k.sv_task(99))
    await k.yield_()
    log.append("bad_slot resumed")


async def not_int(k):
    log.append(k.sv_task("x"))
    await k.yield_()
    log.append("not_int resumed")


async def usurper(k):
    log.append(tcb.handle[0].sv_task(1))
    await k.yield_()
    log.append("usurper resumed")


for fn, who in ((not_sup, 1), (bad_slot, 0), (not_int, 0), (usurper, 1)):
    boot()
    log.clear()
    if who == 0:  # the supervisor itself calls with a bad slot
        svc.set_supervisor(kernel.spawn(fn, 0, "sup"))
        kernel.spawn(sup_idle, 1, "other")
        want_kind = abi.F_BADARG
    else:
        svc.set_supervisor(kernel.spawn(sup_idle, 0, "sup"))
        kernel.spawn(fn, 1, "caller")
        want_kind = abi.F_MISUSE if fn is usurper else abi.F_BADARG
    kernel.run(until_idle=True)
    caller = 0 if who == 0 else 1
    other = 1 - caller
    rec = fault.records.get(caller)
    check(log == [None] and state(caller) == "faulted" and rec is not None
          and rec.kind == want_kind,
          "sv_task from %s: the caller faults (%s): %r %s" % (fn.__name__, want_kind, log,
                                                              state(caller)))
    check(other not in fault.records and state(other) != "faulted",
          "sv_task from %s: nobody else faulted: %s" % (fn.__name__, state(other)))
done()
