# The gain of two hot-path rules of docs/performance.md ("Rules") that no
# other bench isolates, measured on the port that runs it:
#
#     MICROPYPATH=firmware .venv/bin/micropython bench/rules_mp.py
#     mpremote connect PORT run bench/rules_mp.py       # a board
#
# - frames within the VM's on-stack limit: the same body in a function
#   whose frame fits the limit and in one whose frame does not (more
#   locals), heap bytes and time per call;
# - no import inside a function: a module bound at import versus
#   `from keep import trace` inside the function, the same;
# - preallocated results: a StopIteration made per result versus one made
#   at import and raised again, the same.
# Heap bytes are allocated bytes per call, less the loop's own (exact);
# times are ticks_us over N calls (this machine's load moves them).
import gc
import time

import micropython

from keep import trace

N = 2000


def small(a, b):  # 2 arguments, 1 local: the frame fits on the C stack
    c = a + b
    return c


def large(a, b):  # the same result with 12 more locals: the frame is heap-allocated
    c = a + b
    d = e = f = g = h = i = j = k = m = n = o = p = 0
    return c + d + e + f + g + h + i + j + k + m + n + o + p


def bound():
    return trace.write


def imported():
    from keep import trace

    return trace.write


_STOP = StopIteration(0)


# native, as keep/task.py's Handle.__next__: a bytecode frame would add a
# traceback entry (an allocation) to the exception at each raise.
@micropython.native
def result_new():  # a syscall's int result, a new StopIteration each time
    try:
        raise StopIteration(0)
    except StopIteration as e:
        return e.value


@micropython.native
def result_reused():  # ... the one made at import, raised again (keep/task.py RCSTOP)
    try:
        raise _STOP
    except StopIteration as e:
        return e.value


def allocated():
    """Bytes allocated so far: micropython.mem_total() counts what is freed
    at once too (a heap frame is); a board's firmware has gc.mem_alloc()."""
    try:
        from micropython import mem_total

        return mem_total()
    except ImportError:
        return gc.mem_alloc()


def measure(fn, args):
    gc.collect()
    gc.disable()
    a = allocated()
    t = time.ticks_us()
    for _ in range(N):
        fn(*args)
    us = time.ticks_diff(time.ticks_us(), t)
    b = allocated()
    gc.enable()
    return (b - a) / N, us / N


base, _ = measure(bound, ())  # what the loop and the call itself take
for name, fn, args in (("frame_small", small, (1, 2)), ("frame_large", large, (1, 2)),
                       ("global_bound", bound, ()), ("import_inside", imported, ()),
                       ("result_new", result_new, ()), ("result_reused", result_reused, ())):
    by, us = measure(fn, args)
    print("%-14s %6.1f bytes/call %7.3f us/call" % (name, by - base, us))
