"""Names for the fault kinds and task states in abi.py: a fault's text.

Apart from abinames.py (which turns them into the FAULT_NAMES dict and
STATE_NAMES tuple the host and tests use) because a board formats a fault
record long before it needs any other name. Each table is one string of
space-separated words, split where a name is needed: a string costs the
board one small object where a dict or tuple of names cost ~0.9 KB.
Invariant: word n of FAULTS names fault kind n (word 0 is '?', no kind),
word n of STATES names task state n.
"""

FAULTS = "? exception badarg badreply notask misuse memory budget_heap budget_time injected self watchdog"

STATES = "runnable in_send in_reply in_recv in_wait sleeping faulted held done empty"


def fault_name(kind):
    """The name of fault kind `kind`, '?' for a number abi.py does not define."""
    w = FAULTS.split()
    return w[kind] if 0 < kind < len(w) else "?"
