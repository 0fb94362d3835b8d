"""Names for the numbers in abi.py, for people: fault text and the host.

Kept apart from abi.py so a board only pays for these strings when it
formats a name; keep_host.abi merges both files on the host. The fault
kinds and task states live in faultnames.py (a fault's text loads only
those) as strings; their dict and tuple are made here.
Invariant: every table is indexed by the abi.py number it names.
"""

from .faultnames import FAULTS, STATES

FAULT_NAMES = {n: w for n, w in enumerate(FAULTS.split()) if n}
STATE_NAMES = tuple(STATES.split())

RC_NAMES = {0: "ok", -1: "dead", -2: "deadlock", -3: "timeout", -4: "toobig",
            -5: "denied", -6: "notsup", -7: "badarg", -8: "mem", -9: "busy", -10: "io"}

TR_NAMES = {1: "switch", 2: "send", 3: "recv", 4: "reply", 5: "notify", 6: "wake",
            7: "timeout", 8: "deadlock", 9: "fault", 10: "restart", 11: "log",
            12: "text", 13: "dropped", 14: "syscall", 15: "denied", 16: "memfault",
            17: "heap", 18: "budget", 19: "state", 20: "boot", 21: "hold", 22: "pin",
            23: "name"}
