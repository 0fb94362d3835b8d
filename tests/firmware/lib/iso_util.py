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
