# heapsize: 192K
# (its 9.6 KB trace ring needs one free run; at 128K the imports leave the heap too fragmented)
# Hot paths allocate nothing: round trip, notify->wait wake-up, trace write.
# heapsize: 192K
# The heap is locked while they run; any allocation raises MemoryError,
# which would fault a task (and show up below).
import micropython

from kt import boot, check, count, done
from keep import abi, fault, kernel, trace

N = 150
boot(trace_records=1200)
result = {}


async def server(k):
    while True:
        m = await k.recv()
        await k.reply(m.call, 0, m.body[:0] if m.len > 99 else b"0123456789abcdef")


async def client(k, srv):
    data = b"0123456789ABCDEF"  # 16-byte request and reply
    for i in range(10):  # warm up: first use may create attributes
        await k.send(srv, 1, data)
    trace.clear()
    micropython.heap_lock()
    try:
        ok = 0
        for i in range(N):
            r = await k.send(srv, 1, data)
            if r.rc == 0 and r.rlen == 16:
                ok += 1
    finally:
        micropython.heap_unlock()
    result["roundtrips"] = ok
    kernel.stop()


s = kernel.spawn(server, 2, "server")
kernel.spawn(client, 2, "client", (s,))
kernel.run()
check(result.get("roundtrips") == N, "%d round trips under heap_lock: %r" % (N, result))
check(not fault.records, "no task faulted: %r" % [r.text() for r in fault.records.values()])
check(count(abi.TR_SEND) == N and count(abi.TR_REPLY) == N, "every round trip traced")

# notify -> wait wake-up.
boot(trace_records=1200)
result = {}


async def waiter(k):
    for i in range(10):
        await k.wait(2)
    micropython.heap_lock()
    n = 0
    try:
        for i in range(N):
            m = await k.wait(1 | 2)
            if m.bits:
                n += 1
    finally:
        micropython.heap_unlock()
    result["wakeups"] = n


async def notifier(k, w):
    for i in range(N + 10):
        await k.notify(w, 2)


w = kernel.spawn(waiter, 1, "waiter")
kernel.spawn(notifier, 3, "notifier", (w,))
kernel.run(until_idle=True)
check(result.get("wakeups") == N, "%d wake-ups under heap_lock: %r" % (N, result))
check(not fault.records, "no task faulted")


# A trace write, in the ring and when the ring is full (dropped, counted).
def writes():
    trace.init(8)
    micropython.heap_lock()
    try:
        for i in range(20):
            trace.write(abi.TR_SEND, 1, 0x0102, 16)
        trace.write_text(1, b"hello", 5)
    finally:
        micropython.heap_unlock()
    return trace.pending(), trace.st[trace.DROPPED]


check(writes() == (8, 12 + 2), "trace writes allocate nothing; overflow is counted")
done()
