"""Names for the numbers in abi.py, for people: fault text and the host.

Kept apart from abi.py so a board only pays for these strings when it
formats a fault record; keep_host.abi merges both files on the host.
Invariant: every table is indexed by the abi.py number it names.
"""

STATE_NAMES = ("runnable", "in_send", "in_reply", "in_recv", "in_wait",
               "sleeping", "faulted", "held", "done", "empty")

RC_NAMES = {0: "ok", -1: "dead", -2: "deadlock", -3: "timeout", -4: "toobig",
            -5: "denied", -6: "notsup", -7: "badarg", -8: "mem", -9: "busy", -10: "io"}

FAULT_NAMES = {1: "exception", 2: "badarg", 3: "badreply", 4: "notask", 5: "misuse",
               6: "memory", 7: "budget_heap", 8: "budget_time", 9: "injected",
               10: "self", 11: "watchdog"}

TR_NAMES = {1: "switch", 2: "send", 3: "recv", 4: "reply", 5: "notify", 6: "wake",
            7: "timeout", 8: "deadlock", 9: "fault", 10: "restart", 11: "log",
            12: "text", 13: "dropped", 14: "syscall", 15: "denied", 16: "memfault",
            17: "heap", 18: "budget", 19: "state", 20: "boot", 21: "hold", 22: "pin",
            23: "name"}
