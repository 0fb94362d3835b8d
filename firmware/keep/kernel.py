# Declared hot path (docs/performance.md, "Rules"): run(), the scheduling
# loop, and what it calls each slice. MicroPython speed and RAM tricks are
# allowed there, each under one of those rules; the rest of this module is
# plain code.
"""Kernel: boot, spawn, and the scheduling loop.

The top of the kernel's import graph (docs/kernel.md, "Modules"): the
syscalls are keep/task.py's, restart / hold / release keep/svc.py's (named
here too, for the host console and tests). The loop picks the most important runnable task, resumes its coroutine
until it awaits a syscall, and puts it back in its ready queue if it is
still runnable. Everything the task asked for already happened inside the
syscall (see task.py); the loop only applies what is left: re-queueing,
retiring a faulted task, catching exceptions as faults.

Invariants:
- An exception in a task, or any bad syscall, faults that task; the loop
  itself only stops on KeyboardInterrupt / SystemExit (Ctrl-C hands the
  console back to the REPL) or when asked to.
- Between slices tcb.cur is NONE; during a slice it is the running slot.
- Each slice starts with one ticks_us() reading, shared by the trace
  (switch record) and the budget check.
- A slice's time budget counts the task's own time only, never the
  kernel's heap metering around it.
"""

import gc
import time

import micropython
from micropython import const

from . import caps, fault, irq, notify, sched, task, tcb, timers, trace
from .svc import hold, release, restart, start, tid  # noqa: F401  (kernel.restart ...: the console, tests)
from .tcb import lookup  # noqa: F401  (kernel.lookup: the console, tests)
from .transition import close, detach, release_clients, reprioritise

_ABI_VERSION = const(1)  # abi.ABI_VERSION
_E_DEAD = const(-1)  # abi.E_DEAD
_F_BUDGET_HEAP = const(7)  # abi.F_BUDGET_HEAP
_F_BUDGET_TIME = const(8)  # abi.F_BUDGET_TIME
_F_EXCEPTION = const(1)  # abi.F_EXCEPTION
_F_MISUSE = const(5)  # abi.F_MISUSE
_KERNEL_SLOT = const(255)  # abi.KERNEL_SLOT
_TR_BOOT = const(20)  # abi.TR_BOOT
_TR_BUDGET = const(18)  # abi.TR_BUDGET
_FRESH = const(3)  # keep/task.py _FRESH: the _p of a task that is not running

_NONE = const(0xFF)
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_FAULTED = const(6)  # abi.ST_FAULTED
_DONE = const(8)  # abi.ST_DONE

stopping = False
idle_hook = None  # called with the ms to the next deadline (-1: none) when idle
tick_hook = None  # called every _TICK_MS while tasks run (HAL polling, trace drain)
exit_hook = None  # called as exit_hook(slot) when a task's coroutine returns
budgets = False  # True once any task has a heap or time budget
_TICK_MS = const(5)
# The slot running now, in a preallocated byte a watchdog handler can read
# without allocating (the sim WDT reports it after a watchdog reset).
running = bytearray(b"\xff")
# Set when the loop must look at its slow-path globals (stop requested, a
# budget added): one byte tested per slice instead of dictionary lookups.
_ctl = bytearray(1)
ticks_us = time.ticks_us
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add

# The heap meter behind per-slice heap budgets (docs/kernel.md, "Budgets").
# micropython.mem_total() - bytes ever allocated, on the unix port - is
# O(1) and exact even when a collection runs mid-slice, so there every
# slice of a budgeted task is metered. Boards' builds lack it, and
# gc.mem_alloc() walks the whole allocation table (about 9 ms on a Pico's
# 246 KB heap: twice per slice was 60 % of the CPU), so there one slice is
# metered per sample period, which boot() sets from the meter's measured
# cost so metering takes about 1 % of the time.
heap_meter = getattr(micropython, "mem_total", None) or gc.mem_alloc
heap_exact = heap_meter is not gc.mem_alloc
heap_sample_us = 0  # 0: meter every slice
_METER_SHARE = const(100)  # a sample period is this many times the cost of metering a slice


def now_ms():
    return ticks_ms()


def boot(max_msg=64, trace_records=256, echo_text=False):
    """Reset every kernel table; the next spawn gets slot 0."""
    global stopping, idle_hook, tick_hook, exit_hook, budgets, heap_sample_us
    if not heap_exact:
        t0 = ticks_us()
        heap_meter()
        heap_sample_us = 2 * ticks_diff(ticks_us(), t0) * _METER_SHARE
    tcb.reset()
    sched.reset()
    timers.reset()
    fault.reset()
    caps.reset()
    trace.init(trace_records)
    tcb.max_msg = max_msg
    tcb.echo = echo_text
    stopping = False
    idle_hook = None
    tick_hook = None
    exit_hook = None
    budgets = False
    for s in range(irq.MAX_SLOTS):
        irq.pending[s] = 0
    irq.flag[0] = 0
    trace.write(_TR_BOOT, _KERNEL_SLOT, _ABI_VERSION, 0)


def spawn(fn, prio=4, name=None, args=(), heap_budget=0, slice_ms=0, regions=None):
    """Create a task running `fn(handle, *args)` (or `**args` for a dict).

    Returns its task id. heap_budget (bytes allocated per slice) and
    slice_ms (longest slice) fault the task when exceeded; 0 = unchecked.
    regions ((name, size, writable), ...) are carved from the arena set up
    with mem.init (keep.mem); the task reaches them with k.region(name).
    """
    global budgets
    s = tcb.ntasks
    if s >= tcb.MAX_TASKS:
        raise ValueError("too many tasks (max %d)" % tcb.MAX_TASKS)
    if not 0 <= prio < sched.NPRIO:
        raise ValueError("priority must be 0..%d" % (sched.NPRIO - 1))
    tcb.ntasks = s + 1
    tcb.base[s] = prio
    tcb.prio[s] = prio
    tcb.name[s] = name or "task%d" % s
    tcb.entry[s] = fn
    tcb.args[s] = args
    if heap_budget or slice_ms:
        if tcb.bud_heap is None:
            from array import array

            tcb.bud_heap = array("I", bytes(4 * tcb.MAX_TASKS))
            tcb.bud_us = array("I", bytes(4 * tcb.MAX_TASKS))
        tcb.bud_heap[s] = heap_budget
        tcb.bud_us[s] = slice_ms * 1000
        budgets = True
        _ctl[0] = 1
    h = tcb.handle[s] = task.Handle(s, tcb.max_msg)
    tcb.mbuf[s] = h.m.buf  # ipc reaches the buffer without three attribute lookups
    if regions:
        from . import mem

        tcb.handle[s].regions = mem.carve(s, regions)
    start(s)
    return s  # generation 0


def stop():
    """Ask the loop to return after the current slice."""
    global stopping
    stopping = True
    _ctl[0] = 1



def _finish(s, coro_done):
    """A slice ended with the task stopped: clean up what it leaves behind."""
    tcb.handle[s]._p = _FRESH  # not running: a syscall on its handle faults the caller
    if coro_done:
        if tcb.state[s] < _FAULTED:
            srv = detach(s)
            tcb.state[s] = _DONE
            if srv != _NONE:
                reprioritise(srv)
            release_clients(s, _E_DEAD)
            tcb.coro[s] = None
            if exit_hook is not None:
                exit_hook(s)
        return
    close(s)


# Hot path (docs/performance.md, "Rules"): native, as the syscalls are. The
# loop runs once a slice, three slices a round trip; as bytecode it was 9 %
# of a round trip's instructions (callgrind 84,383 -> 76,836).
@micropython.native
def run(duration_ms=None, until_idle=False):
    """Schedule tasks until stop(), the duration passes, or (until_idle)
    nothing is runnable and no deadline is armed.

    Hooks and the budget switch are read when the loop starts and after
    every idle pass or tick, not on every slice (each read of a module
    global is a dictionary lookup, and this loop runs per slice).
    """
    global stopping
    stopping = False
    _ctl[0] = 0
    ctl = _ctl
    state = tcb.state
    coros = tcb.coro
    handles = tcb.handle
    gen = tcb.gen
    pop = sched.pop
    push = sched.push
    tw = trace.write
    flag = irq.flag
    ipend = irq.pending
    tflag = timers.flag
    run_b = running
    meter = heap_meter
    sample_us = heap_sample_us
    next_sample = ticks_us()
    metered = False
    us = ticks_us
    fault_ = fault.fault
    finish = _finish
    t_end = ticks_ms() + duration_ms if duration_ms is not None else 0
    next_tick = ticks_ms()
    tick = tick_hook
    check = budgets
    timed_loop = duration_ms is not None or tick is not None
    last = _NONE
    a0 = 0
    while True:
        if ctl[0]:  # slow path: stop requested, or the snapshots above are stale
            if stopping:
                break
            ctl[0] = 0
            tick = tick_hook
            check = budgets
            timed_loop = duration_ms is not None or tick is not None
        if flag[0]:  # fold interrupt-posted bits into notifications
            flag[0] = 0
            for i in range(tcb.ntasks):
                b = ipend[i]
                if b:
                    ipend[i] = 0
                    notify.post(i, b)
        if tflag[0]:
            now = ticks_ms()
            if timers.due(now):
                timers.expire(now)
        s = pop()
        if s == _NONE:
            now = ticks_ms()
            if duration_ms is not None and ticks_diff(now, t_end) >= 0:
                break
            wait = timers.until_next(now)
            if until_idle and wait < 0 and not flag[0] and not sched.ready[0]:
                break
            if idle_hook is not None:
                idle_hook(wait)
            elif wait != 0:
                time.sleep_ms(1 if wait < 0 or wait > 1 else wait)
            last = _NONE
            next_tick = ticks_ms()
            tick = tick_hook
            check = budgets
            timed_loop = duration_ms is not None or tick is not None
            continue
        tcb.cur = s
        run_b[0] = s
        now_us = us()
        if s != last:
            tw(1, s, now_us & 0xFFFF, now_us >> 16 | gen[s] << 16)  # abi.TR_SWITCH
            last = s
        h = handles[s]
        if check:
            metered = tcb.bud_heap[s] and (not sample_us or ticks_diff(now_us, next_sample) >= 0)
            if metered:
                a0 = meter()
            t0 = us()
        try:
            coros[s].send(None)
            if h._p != 2 and state[s] < _FAULTED:
                fault_(s, _F_MISUSE, 0, "awaited something that is not a Keep syscall")
        except StopIteration:
            finish(s, True)
        except Exception as e:
            fault_(s, _F_EXCEPTION, 0, e)
        tcb.cur = _NONE
        run_b[0] = _NONE
        if check and state[s] < _FAULTED:
            # Budgets. The time is measured around the slice alone, so a
            # task that never yields is caught only by the watchdog. The
            # heap figure (metered slices only) is a heap_meter delta: exact
            # with mem_total; with gc.mem_alloc it reads low, never high, if
            # a collection ran during the slice, so an overrun is never
            # reported falsely.
            slice_us = ticks_diff(us(), t0)
            alloc = 0
            if metered:
                alloc = meter() - a0
                if sample_us:
                    next_sample = ticks_add(us(), sample_us)
            b = tcb.bud_heap[s]
            if b and alloc > b:
                tw(_TR_BUDGET, s, 1, alloc)
                fault_(s, _F_BUDGET_HEAP, alloc,
                       "allocated %d bytes in one slice (budget %d)" % (alloc, b))
            else:
                b = tcb.bud_us[s]
                if b and slice_us > b:
                    tw(_TR_BUDGET, s, 2, slice_us)
                    fault_(s, _F_BUDGET_TIME, slice_us,
                           "ran %d us without yielding (budget %d us)" % (slice_us, b))
        st = state[s]
        if st == _RUNNABLE:
            push(s)
        elif st >= _FAULTED:
            finish(s, False)
            check = budgets
        if timed_loop:
            now = ticks_ms()
            if tick is not None and ticks_diff(now, next_tick) >= 0:
                next_tick = now + _TICK_MS
                tick()
                tick = tick_hook
                check = budgets
            if duration_ms is not None and ticks_diff(now, t_end) >= 0:
                break
    tcb.cur = _NONE
    run_b[0] = _NONE

