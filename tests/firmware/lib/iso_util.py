# Helpers for the iso_* firmware tests (isolation and supervision).
from keep import abi, fault, kernel, trace


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
    return abi.FAULT_NAMES[r.kind], abi.STATE_NAMES[r.prev_state]


def state(slot):
    from keep import tcb

    return abi.STATE_NAMES[tcb.state[slot]]
