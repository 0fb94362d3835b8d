# Faults stop one task, keep what it was doing, and never stop the kernel.
from kt import boot, check, done, recs, state
from keep import abi, fault, kernel, svc, tcb

hooked = []
results = {}


async def crasher(k):
    m = await k.recv()
    if m.op == 1:
        raise ValueError("boom")


async def blocked_client(k, srv, tag):
    r = await k.send(srv, 1)
    results[tag] = r.rc


async def survivor(k):
    n = 0
    for i in range(5):
        await k.yield_()
        n += 1
    results["survivor"] = n


boot()
fault.hook = hooked.append
s = kernel.spawn(crasher, 1, "crasher")
kernel.spawn(blocked_client, 3, "c_reply", (s, "in_reply"))  # gets the message: IN_REPLY
kernel.spawn(blocked_client, 3, "c_send", (s, "in_send"))  # queued behind it: IN_SEND
kernel.spawn(survivor, 4, "survivor")
kernel.run(until_idle=True)
check(state(s) == "faulted", "exception faults the task")
rec = fault.records[s]
check(rec.kind == abi.F_EXCEPTION and isinstance(rec.info, ValueError), "record keeps the exception")
check(rec.prev_state == abi.ST_RUNNABLE, "record keeps the prior state")
check("kernel_faults.py" in rec.where(), "record says where: %r" % rec.where())
check("ValueError: boom" in rec.text() and "crasher" in rec.text(), "fault text: %r" % rec.text())
check(results.get("in_reply") == abi.E_DEAD and results.get("in_send") == abi.E_DEAD,
      "blocked clients get E_DEAD at once: %r" % results)
check(results.get("survivor") == 5, "other tasks keep running")
check(hooked == [s], "supervisor hook called once")
check(len(recs(abi.TR_FAULT)) == 1, "fault traced")

# Bad syscall arguments fault the caller, each one.
cases = [
    ("send str dest", lambda k: k.send("x", 1)),
    ("send op 300", lambda k: k.send(0, 300)),
    ("send int data", lambda k: k.send(0, 1, 12345)),
    ("send list data", lambda k: k.send(0, 1, [1, 2])),
    ("send neg timeout", lambda k: k.send(0, 1, None, None, -5)),
    ("recv str timeout", lambda k: k.recv("soon")),
    ("reply without send", lambda k: k.reply(0)),
    ("reply str client", lambda k: k.reply("c")),
    ("reply rc 999", lambda k: k.reply(0, 999)),
    ("reply rc float", lambda k: k.reply(0, 1.5)),
    ("notify big bits", lambda k: k.notify(0, 1 << 40)),
    ("notify unknown", lambda k: k.notify(9, 1)),
    ("wait zero mask", lambda k: k.wait(0)),
    ("sleep negative", lambda k: k.sleep_ms(-1)),
    ("sleep float", lambda k: k.sleep_ms(1.5)),
    ("log int", lambda k: k.log(5)),
]
for what, call in cases:
    boot()
    after = []

    async def idle_server(k):
        await k.recv()

    async def bad(k, call=call, after=after):
        await call(k)
        after.append("resumed")

    kernel.spawn(idle_server, 1, "srv")
    b = kernel.spawn(bad, 2, "bad")
    kernel.run(until_idle=True)
    check(state(b) == "faulted" and not after, what + ": caller faulted")
    check(state(0) == "in_recv", what + ": others untouched")
    k = fault.records[b].kind if b in fault.records else None
    check(k in (abi.F_BADARG, abi.F_BADREPLY, abi.F_NOTASK), what + ": kind %r" % k)

# Double reply, and a syscall without await, and awaiting something foreign.
boot()


async def double(k):
    m = await k.recv()
    await k.reply(m.call)
    await k.reply(m.call)


async def one_call(k, srv):
    await k.send(srv, 1)


async def no_await(k):
    k.yield_()
    k.yield_()


class Foreign:
    def __iter__(self):
        return self

    def __next__(self):
        return None


async def foreign(k):
    await Foreign()


d = kernel.spawn(double, 1, "double")
kernel.spawn(one_call, 2, "one", (d,))
na = kernel.spawn(no_await, 3, "no_await")
fo = kernel.spawn(foreign, 3, "foreign")
kernel.run(until_idle=True)
check(fault.records[d].kind == abi.F_BADREPLY, "double reply faults")
check(fault.records[na].kind == abi.F_MISUSE, "syscall without await faults")
check(fault.records[fo].kind == abi.F_MISUSE, "awaiting a foreign object faults")
check(tcb.state[1] == abi.ST_DONE, "the client got its one reply and finished")

# fault() on yourself, and NOTE_FAULT reaches the supervisor.
boot()
seen = []


async def sup(k):
    m = await k.wait(abi.NOTE_FAULT)
    seen.append(m.bits)


async def quitter(k):
    await k.fault("gave up")



svc.set_supervisor(kernel.spawn(sup, 0, "sup"))
q = kernel.spawn(quitter, 3, "quitter")
kernel.run(until_idle=True)
check(seen == [abi.NOTE_FAULT], "supervisor notified: %r" % seen)
check(fault.records[q].kind == abi.F_SELF and "gave up" in fault.records[q].text(), "self fault")

# A fault while the heap is full (locked here: every allocation fails) costs
# the fault its record and its text, never the kernel (a MemoryError in the
# fault path used to end kernel.run()).
import micropython  # noqa: E402

FULL = ValueError("made before the heap filled up")


async def full_heap(k, how):
    await k.yield_()
    micropython.heap_lock()
    if how == "raise":
        raise FULL
    await k.fault("gave up")  # the syscall path to a fault allocates nothing either


for how, kind in (("raise", abi.F_EXCEPTION), ("fault()", abi.F_SELF)):
    boot()
    results.clear()
    fault.hook = lambda slot: micropython.heap_unlock()  # the last thing fault() does
    f = kernel.spawn(full_heap, 2, "fullheap", (how,))
    kernel.spawn(survivor, 4, "survivor")
    kernel.run(until_idle=True)
    check(state(f) == "faulted", how + ": a fault in a full heap still faults the task")
    check(f not in fault.records, how + ": no record when there is no heap for one")
    faults = recs(abi.TR_FAULT)
    check(len(faults) == 1 and faults[0][2] & 0xFF == kind, how + ": and it is traced: %r" % faults)
    check(results.get("survivor") == 5, how + ": the kernel keeps running the others")
done()
