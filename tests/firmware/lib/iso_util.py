# Helpers for the iso_* firmware tests (isolation and supervision).
from keep import abi, abinames, fault, kernel, trace


def boot(max_msg=64, trace_records=256):
    import gc

    trace.init(8)  # let the old ring go before the new one is allocated
    gc.collect()
    kernel.boot(max_msg, trace_records)


def records(kind):
    """Trace records of one kind, as (slot, a, b)."""
    return [(r[1], r[2], r[3]) for r in trace.records() if r[0] == kind]


def frec(slot):
    """(kind name, prior state name) of slot's last fault, or None."""
    r = fault.records.get(slot)
    if r is None:
        return None
    return abinames.FAULT_NAMES[r.kind], abinames.STATE_NAMES[r.prev_state]


def state(slot):
    from keep import tcb

    return abinames.STATE_NAMES[tcb.state[slot]]


def show(out, ntasks):
    """Print what a region scenario found: its lines `out`, each task's state
    and last fault, and the memory faults the trace recorded."""
    for o in out:
        print(o)
    for s in range(ntasks):
        print(s, state(s), frec(s))
    for slot, a, b in records(abi.TR_MEMFAULT):
        print("memfault slot", slot, "acc", a & 0xFF, "region", a >> 8, "off", b >> 16, "len", b & 0xFFFF)


def logs(slot=None):
    """Log lines in the trace ring (LOG + TEXT records), as (slot, text)."""
    out = []
    recs = trace.records()
    i = 0
    while i < len(recs):
        kind, s, a, _b = recs[i]
        if kind == abi.TR_LOG:
            n = a
            raw = bytearray()
            j = i + 1
            while len(raw) < n and j < len(recs) and recs[j][0] == abi.TR_TEXT:
                o = j
                r = recs[o]
                # TEXT record bytes 1..7: slot byte, a (2), b (4)
                raw += bytes((r[1], r[2] & 0xFF, r[2] >> 8, r[3] & 0xFF, (r[3] >> 8) & 0xFF,
                              (r[3] >> 16) & 0xFF, r[3] >> 24))
                j += 1
            if slot is None or s == slot:
                out.append((s, bytes(raw[:n]).decode()))
            i = j
        else:
            i += 1
    return out


def drain_logs(slot=None):
    """logs(), then empty the ring so a long test never drops records."""
    out = logs(slot)
    trace.clear()
    return out


def run_until(cond, limit_ms=2000, step_ms=1):
    """kernel.run() in steps of step_ms until cond() holds or limit_ms pass:
    a wait for a state, not for a time that is long enough only at the unix
    port's speed (a slice costs ~100x more on a board). Returns cond()."""
    import time

    t0 = time.ticks_ms()
    while not cond() and time.ticks_diff(time.ticks_ms(), t0) < limit_ms:
        kernel.run(duration_ms=step_ms)
    return cond()


def supervise(tasks, ms, until=None, **policy):
    """Boot with the real supervisor in slot 0 (policy: its args), spawn
    tasks [(fn, name, disposition)] at priority 2, run for ms (or, with
    until, until it holds, at most ms). Returns the reboots the supervisor
    asked for (its `reboot` callback, recorded unless policy gives one)."""
    from keep import svc
    from servers import supervisor as sv

    boot()
    reboots = []
    policy.setdefault("reboot", lambda: reboots.append(1))
    kernel.spawn(sv.main, 0, "supervisor",
                 args=dict(dispositions=[0] + [t[2] for t in tasks], **policy))
    svc.set_supervisor(0)
    for fn, name, _d in tasks:
        kernel.spawn(fn, 2, name)
    if until is None:
        kernel.run(duration_ms=ms)
    else:
        run_until(until, ms)
    return reboots
