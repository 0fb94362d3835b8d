"""The demo's `main.py` for the virtual board (MicroPython source, as text).

It boots the compiled app table with `keep.boot.main()` when the firmware
has it; until then it does the same job itself (spawn every task of
`app_table.TASKS`, load the grants, drain the trace to the console, poll
the HAL) with a minimal stand-in supervisor that restarts faulted tasks
with the table's back-off. Either way it samples `gc.mem_alloc()` from
the kernel's tick hook (after a collection, so it is the live heap, not
garbage waiting for the collector) and prints the high-water mark once a second as
`keep-demo: heap peak N bytes` (plus a TR_HEAP record of the heap in use),
which is where the host's `demo_peak_heap_bytes` comes from.
"""

MAIN_PY = r'''# main.py written by `keep demo`: boot the app table, sample the heap peak.
import gc
import sys

from keep import abi, kernel, trace

_peak = [0, 0, 0]  # live-heap high-water mark, last report, last sample (ticks_ms)


def _sample():
    # Live heap: what is still referenced after a collection. The raw
    # gc.mem_alloc() high-water mark only says when the collector ran (it
    # climbs to the heap size with garbage), so sample after collecting,
    # every 100 ms from the tick hook (a collection costs ~1 ms here).
    t = kernel.ticks_ms()
    if kernel.ticks_diff(t, _peak[2]) < 100:
        return
    _peak[2] = t
    gc.collect()
    a = gc.mem_alloc()
    if a > _peak[0]:
        _peak[0] = a
    if kernel.ticks_diff(t, _peak[1]) >= 1000:
        _peak[1] = t
        trace.write(abi.TR_HEAP, abi.KERNEL_SLOT, 0, a)
        print("keep-demo: heap peak %d bytes" % _peak[0])


_run = kernel.run


def _run_sampled(*a, **kw):
    hook = kernel.tick_hook

    def tick():
        _sample()
        if hook is not None:
            hook()

    kernel.tick_hook = tick
    return _run(*a, **kw)


kernel.run = _run_sampled

try:
    from keep import boot as _boot
except ImportError:
    _boot = None

if _boot is not None:
    _boot.main()
else:
    import app_table as T
    import hal
    from keep import caps, drain, svc, tcb

    h = hal.load(T.HAL)

    async def _standin_supervisor(k):
        """Stand-in until servers/supervisor.py exists: restart with back-off."""
        svc.set_supervisor(k.slot)
        backoff = T.SUPERVISOR[2]
        cap = T.SUPERVISOR[3]
        delay = [backoff] * tcb.ntasks
        while True:
            await k.wait(abi.NOTE_FAULT)
            for s in range(tcb.ntasks):
                if s != k.slot and tcb.state[s] == abi.ST_FAULTED and T.TASKS[s][4] == 0:
                    await k.sleep_ms(delay[s])
                    k.sv_restart(s)
                    delay[s] = min(delay[s] * 2, cap)

    kernel.boot(T.MAX_MSG, T.TRACE_RECORDS)
    drain.reset(sys.stdout.buffer)

    def _tick():
        drain.drain()
        h.poll()

    def _idle(ms):
        _sample()
        drain.drain()
        h.idle()

    kernel.tick_hook = _tick
    kernel.idle_hook = _idle
    grants = []
    for slot, t in enumerate(T.TASKS):
        name, mod, fn, prio, disp, server, regions, gr, owns, heap_b, slice_ms, args = t
        if slot == 0:
            try:
                f = __import__(mod, None, None, [fn]).main
            except ImportError:
                f = _standin_supervisor
        else:
            f = getattr(__import__(mod, None, None, [fn]), fn)
        kw = dict(args)
        if server:
            kw["owns"] = owns
        kernel.spawn(f, prio, name, kw, heap_b, slice_ms)
        grants.append(gr)
    caps.load(grants)
    gc.collect()
    print("keep-demo: %d tasks up, heap %d bytes in use" % (tcb.ntasks, gc.mem_alloc()))
    kernel.run()
'''
