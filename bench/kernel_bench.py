# Keep's kernel against MicroPython's asyncio, side by side in one process.
# Run by bench/run.py on the unix port and on the emulated Pico (one source
# for both; bench/pico_bench.py); prints one JSON line.
#
#     kernel_bench.py [N [ROUNDS [TRACE_N [N_ASYNCIO]]]]
#
# On a board there is no command line: the host sets sys.argv first.
# Rounds alternate Keep and asyncio so both see the same machine state;
# each figure is the median over rounds, and the ratio is the median of
# the per-round ratios.
#
# The floor (floor_roundtrips) is timed in every round beside them: two
# bare coroutines, a copy and three awaits a round trip, the least any
# kernel of this interpreter could spend (docs/performance.md).
#
# Each side runs 50 round trips to warm up, then N with the allocation
# counted, then a collection and the timed round trips (N for Keep,
# N_ASYNCIO for asyncio) with the GC as a program has it: on. asyncio's
# round trip leaves garbage, and MicroPython's allocator gets slower as the
# heap fills (it searches the allocation table from the lowest free block
# for every multi-block object), so asyncio's time depends on how far into
# a collection cycle it is measured: N_ASYNCIO must span at least one
# collection (the unix port: 4000 round trips of ~460 B in a 512 KB heap;
# the Pico: 2,500 of ~100 B counted in its ~210 KB free heap) to give the
# steady state. The first FRESH_N round trips after the collection are
# also reported on their own: asyncio at its best, right after a collect.
#
# Allocation is counted two ways, whichever the firmware offers:
# - micropython.mem_total() (the unix port): bytes ever requested, exact
#   even when a collection runs, and it sees blocks freed again at once.
# - gc.mem_alloc() deltas (rp2 and other board builds, which lack
#   mem_total): the GC is disabled around the N counted round trips after
#   a collection, so every block still allocated at the end - kept or
#   garbage - is counted, in the allocator's 16-byte blocks. A block the
#   VM frees itself before the end (a bytecode frame too big for the C
#   stack, freed on return) is not seen; the unix figure, same bytecode,
#   covers that. A heap that fills with the GC disabled raises
#   MemoryError (it does not collect), so a count is never silently
#   wrong. gc.mem_alloc() walks the heap (~9 ms on a Pico), so it is read
#   outside the timed loops.
import asyncio
import gc
import json
import sys
import time

import micropython

from keep import abi, kernel, trace
from runtime import drain

ROUNDS = 7
N = 4000
TRACE_N = 20000
FRESH_N = 200
mem_total = getattr(micropython, "mem_total", None)
DATA = b"0123456789abcdef"  # 16-byte request and reply
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


class NullSink:
    """The console, minus the console: frames are encoded, then discarded."""

    def write(self, buf, n=-1):
        return n


def alloc_start():
    """Collect, then the allocation counter's reading (see the header)."""
    gc.collect()
    if mem_total is not None:
        return mem_total()
    gc.disable()  # nothing is freed behind our back until alloc_end
    return gc.mem_alloc()


def alloc_end(m0, n):
    """Bytes allocated per round trip since alloc_start's reading m0."""
    if mem_total is not None:
        return (mem_total() - m0) / n
    m1 = gc.mem_alloc()
    gc.enable()
    return (m1 - m0) / n


def keep_roundtrips(n, n_count):
    """Keep's full round trip: checks, tracing and the trace drain all on."""
    kernel.boot(max_msg=64, trace_records=256)
    drain.reset(NullSink())
    kernel.tick_hook = drain.drain
    out = {}

    async def server(k):
        reply = DATA
        while True:
            m = await k.recv()
            await k.reply(m.call, 0, reply)

    async def client(k, srv):
        for i in range(50):
            await k.send(srv, 1, DATA)
        m0 = alloc_start()
        for i in range(n_count):
            await k.send(srv, 1, DATA)
        out["alloc"] = alloc_end(m0, n_count)
        gc.collect()
        t0 = ticks_us()
        for i in range(n):
            await k.send(srv, 1, DATA)
        out["us"] = ticks_diff(ticks_us(), t0) / n
        kernel.stop()

    s = kernel.spawn(server, 2, "server")
    kernel.spawn(client, 2, "client", (s,))
    kernel.run()
    return out


def asyncio_roundtrips(n, n_fresh, n_count):
    """The same exchange the idiomatic asyncio way: two tasks, two Events.
    n round trips timed; the first n_fresh of them also on their own."""
    out = {}

    async def ping(e1, e2):
        for i in range(50):
            e1.set()
            await e2.wait()
            e2.clear()
        m0 = alloc_start()
        for i in range(n_count):
            e1.set()
            await e2.wait()
            e2.clear()
        out["alloc"] = alloc_end(m0, n_count)
        gc.collect()
        # Two loops, not a test inside one: the split costs one ticks_us.
        t0 = ticks_us()
        for i in range(n_fresh):
            e1.set()
            await e2.wait()
            e2.clear()
        t1 = ticks_us()
        for i in range(n - n_fresh):
            e1.set()
            await e2.wait()
            e2.clear()
        t2 = ticks_us()
        out["fresh_us"] = ticks_diff(t1, t0) / n_fresh
        out["us"] = ticks_diff(t2, t0) / n

    async def pong(e1, e2):
        while True:
            await e1.wait()
            e1.clear()
            e2.set()

    async def main():
        e1 = asyncio.Event()
        e2 = asyncio.Event()
        p = asyncio.create_task(pong(e1, e2))
        await ping(e1, e2)
        p.cancel()

    asyncio.run(main())
    return out


class Once:
    """The cheapest awaitable MicroPython offers (asyncio's SingletonGenerator):
    its first __next__ yields, the second returns, through one preallocated
    StopIteration. native, as Keep's handle, so the raise adds no traceback."""

    def __init__(self):
        self.state = 0
        self.stop = StopIteration()

    def __iter__(self):
        return self

    @micropython.native
    def __next__(self):
        if self.state:
            self.state = 0
            s = self.stop
            s.__traceback__ = None
            raise s
        self.state = 1
        return None


def floor_roundtrips(n):
    """The floor under any cooperative kernel of this interpreter: two bare
    coroutines, the 16-byte request copied once into a preallocated buffer,
    and three awaits a round trip (the client's send, the server's recv and
    reply), resumed in a fixed order: no scheduler, no checks, no trace."""
    buf = bytearray(64)
    mv = memoryview(buf)
    aw = Once()

    async def client():
        while True:
            mv[:16] = DATA  # the request, copied (slice assignment: no allocation)
            await aw  # send

    async def server():
        while True:
            await aw  # recv
            await aw  # reply

    c = client().send
    s = server().send
    for i in range(50):
        c(None)
        s(None)
        s(None)
    t0 = ticks_us()
    for i in range(n):
        c(None)
        s(None)
        s(None)
    return ticks_diff(ticks_us(), t0) / n


def trace_write_us(n):
    trace.init(64)
    w = trace.write
    t0 = ticks_us()
    for i in range(n):
        w(2, 1, 0x0102, 16)
        if trace.st[1] == 64:
            trace.clear()
    dt = ticks_diff(ticks_us(), t0)
    t0 = ticks_us()
    for i in range(n):
        pass
    loop = ticks_diff(ticks_us(), t0)
    return (dt - loop) / n


def task_overhead():
    """Kernel bytes per task beyond its coroutine and its message buffers."""
    kernel.boot(max_msg=64, trace_records=64)

    async def idle(k):
        await k.recv()

    gc.collect()
    a = gc.mem_alloc()
    coros = [idle(None) for i in range(8)]
    gc.collect()
    coro_bytes = (gc.mem_alloc() - a) / 8
    del coros
    gc.collect()
    a = gc.mem_alloc()
    for i in range(8):
        kernel.spawn(idle, 3, "t%d" % i)
    gc.collect()
    per_task = (gc.mem_alloc() - a) / 8
    # Declared buffers: the receive and reply buffers (header + max_msg each).
    bufs = 2 * (abi.MSG_HDR + 64)
    return per_task - coro_bytes - bufs, per_task, coro_bytes


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    argv = [int(a) for a in sys.argv[1:]]
    n = argv[0] if len(argv) > 0 else N
    rounds = argv[1] if len(argv) > 1 else ROUNDS
    trace_n = argv[2] if len(argv) > 2 else TRACE_N
    n_aio = argv[3] if len(argv) > 3 else n
    n_fresh = min(FRESH_N, n_aio)
    keep_us, aio_us, aio_fresh_us, ratios, keep_alloc, aio_alloc = [], [], [], [], [], []
    floor_us, floor_ratios = [], []
    for r in range(rounds):
        k = keep_roundtrips(n, n)
        a = asyncio_roundtrips(n_aio, n_fresh, n)
        keep_us.append(k["us"])
        aio_us.append(a["us"])
        aio_fresh_us.append(a["fresh_us"])
        ratios.append(k["us"] / a["us"])
        keep_alloc.append(k["alloc"])
        aio_alloc.append(a["alloc"])
        f = floor_roundtrips(n)
        floor_us.append(f)
        floor_ratios.append(f / a["us"])
        gc.collect()
    overhead, per_task, coro = task_overhead()
    res = {
        "ipc_roundtrip_us": round(median(keep_us), 3),
        "asyncio_roundtrip_us": round(median(aio_us), 3),
        "asyncio_fresh_roundtrip_us": round(median(aio_fresh_us), 3),
        "ipc_vs_asyncio_ratio": round(median(ratios), 4),
        "ipc_alloc_bytes_per_roundtrip": round(max(keep_alloc), 2),
        "ipc_floor_us": round(median(floor_us), 3),
        "ipc_floor_vs_asyncio_ratio": round(median(floor_ratios), 4),
        "asyncio_alloc_bytes_per_roundtrip": round(median(aio_alloc), 2),
        "task_overhead_bytes": round(overhead),
        "task_total_bytes": round(per_task),
        "task_coroutine_bytes": round(coro),
        "trace_write_us": round(trace_write_us(trace_n), 3),
        "alloc_counted_by": "mem_total" if mem_total is not None else "gc.mem_alloc",
        "bench_rounds": rounds,
        "bench_roundtrips_per_round": n,
        "bench_asyncio_roundtrips_per_round": n_aio,
    }
    print(json.dumps(res))


# Guarded so bench/pico_profile.py can import the workloads without the run.
if __name__ == "__main__":
    main()
