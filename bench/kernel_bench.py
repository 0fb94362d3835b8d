# Keep's kernel against MicroPython's asyncio, side by side in one process.
# Run by bench/run.py under the unix port; prints one JSON line.
#
# Rounds alternate Keep and asyncio so both see the same machine state;
# each figure is the median over rounds, and the ratio is the median of
# the per-round ratios.
import asyncio
import gc
import json
import sys
import time

import micropython

from keep import abi, drain, kernel, trace

ROUNDS = 7
N = 4000
DATA = b"0123456789abcdef"  # 16-byte request and reply
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


class NullSink:
    """The console, minus the console: frames are encoded, then discarded."""

    def write(self, buf, n=-1):
        return n


def keep_roundtrips(n):
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
        gc.collect()
        m0 = micropython.mem_total()
        t0 = ticks_us()
        for i in range(n):
            await k.send(srv, 1, DATA)
        dt = ticks_diff(ticks_us(), t0)
        out["alloc"] = (micropython.mem_total() - m0) / n
        out["us"] = dt / n
        kernel.stop()

    s = kernel.spawn(server, 2, "server")
    kernel.spawn(client, 2, "client", (s,))
    kernel.run()
    return out


def asyncio_roundtrips(n):
    """The same exchange the idiomatic asyncio way: two tasks, two Events."""
    out = {}

    async def ping(e1, e2):
        for i in range(50):
            e1.set()
            await e2.wait()
            e2.clear()
        gc.collect()
        m0 = micropython.mem_total()
        t0 = ticks_us()
        for i in range(n):
            e1.set()
            await e2.wait()
            e2.clear()
        dt = ticks_diff(ticks_us(), t0)
        out["alloc"] = (micropython.mem_total() - m0) / n
        out["us"] = dt / n

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
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    keep_us, aio_us, ratios, keep_alloc, aio_alloc = [], [], [], [], []
    for r in range(ROUNDS):
        k = keep_roundtrips(n)
        a = asyncio_roundtrips(n)
        keep_us.append(k["us"])
        aio_us.append(a["us"])
        ratios.append(k["us"] / a["us"])
        keep_alloc.append(k["alloc"])
        aio_alloc.append(a["alloc"])
        gc.collect()
    overhead, per_task, coro = task_overhead()
    res = {
        "ipc_roundtrip_us": round(median(keep_us), 3),
        "asyncio_roundtrip_us": round(median(aio_us), 3),
        "ipc_vs_asyncio_ratio": round(median(ratios), 4),
        "ipc_alloc_bytes_per_roundtrip": round(max(keep_alloc), 2),
        "asyncio_alloc_bytes_per_roundtrip": round(median(aio_alloc), 2),
        "task_overhead_bytes": round(overhead),
        "task_total_bytes": round(per_task),
        "task_coroutine_bytes": round(coro),
        "trace_write_us": round(trace_write_us(20000), 3),
        "bench_rounds": ROUNDS,
        "bench_roundtrips_per_round": n,
    }
    print(json.dumps(res))


main()
