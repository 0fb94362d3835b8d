"""Names for the fault kinds and task states in abi.py: a fault's text.

Apart from abinames.py (which re-exports them) because a board formats a
fault record long before it needs any other name: its first fault loads
these two tables, not the trace and rc names as well.
Invariant: every table is indexed by the abi.py number it names.
"""

STATE_NAMES = ("runnable", "in_send", "in_reply", "in_recv", "in_wait",
               "sleeping", "faulted", "held", "done", "empty")

FAULT_NAMES = {1: "exception", 2: "badarg", 3: "badreply", 4: "notask", 5: "misuse",
               6: "memory", 7: "budget_heap", 8: "budget_time", 9: "injected",
               10: "self", 11: "watchdog"}
