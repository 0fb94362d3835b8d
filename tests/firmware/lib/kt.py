"""Small helpers for kernel firmware tests (MicroPython)."""

from keep import abinames, kernel, tcb, trace

failures = []


def check(cond, what):
    """Record a failed expectation; the test prints it and exits non-zero."""
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def done():
    if failures:
        raise SystemExit(1)
    print("ok")


def boot(**kw):
    kw.setdefault("trace_records", 512)
    kernel.boot(**kw)


def kinds():
    """The kinds of the trace records held, as names."""
    return [abinames.TR_NAMES.get(r[0], "?") for r in trace.records()]


def recs(kind):
    return [r for r in trace.records() if r[0] == kind]


def state(slot):
    return abinames.STATE_NAMES[tcb.state[slot]]


def count(kind):
    """How many held records are of `kind` (no list built: big rings fit)."""
    n = 0
    cap = trace.st[trace.CAP]
    for k in range(trace.st[trace.COUNT]):
        if trace.ring[((trace.st[trace.HEAD] + k) % cap) * 8] == kind:
            n += 1
    return n
