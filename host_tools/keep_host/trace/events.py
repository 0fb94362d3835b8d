"""Trace events: one decoded record (or a LOG with its text), with named fields.

FIELDS maps each record kind to the function naming its `a` and `b`
(docs/trace-format.md has the same table in prose; a test checks they
cover the same kinds as abi.TR_NAMES).
"""

from .. import abi

KERNEL = abi.KERNEL_SLOT
SYS_NAMES = {v: k[4:].lower() for k, v in vars(abi).items() if k.startswith("SYS_")}
ACCESS_NAMES = {abi.ACC_READ: "read", abi.ACC_WRITE: "write"}
BUDGET_NAMES = {1: "heap", 2: "time"}


def state_name(n):
    return abi.STATE_NAMES[n] if n < len(abi.STATE_NAMES) else f"state{n}"


def _rc(byte):
    return byte - 256 if byte >= 128 else byte


def _ipc(a, b):
    return {"peer": a & 0xFF, "op": a >> 8, "length": b}


def _reply(a, b):
    rc = _rc(a >> 8)
    return {"peer": a & 0xFF, "rc": rc, "rc_name": abi.RC_NAMES.get(rc, str(rc)), "length": b}


def _fault(a, b):
    k = a & 0xFF
    return {"fault": abi.FAULT_NAMES.get(k, f"fault{k}"), "fault_code": k,
            "prior_state": state_name(a >> 8), "detail": b}


def _memfault(a, b):
    return {"access": ACCESS_NAMES.get(a & 0xFF, str(a & 0xFF)), "region": a >> 8,
            "offset": b >> 16, "length": b & 0xFFFF}


FIELDS = {
    abi.TR_SWITCH: lambda a, b: {"ticks_us": a | (b & 0xFFFF) << 16},
    abi.TR_SEND: lambda a, b: {"peer": a & 0xFF, "op": a >> 8, "length": b & 0x7FFF,
                               "delivered": bool(b & abi.TR_DELIVERED)},
    abi.TR_RECV: _ipc,
    abi.TR_REPLY: _reply,
    abi.TR_NOTIFY: lambda a, b: {"peer": a & 0xFF, "bits": b},
    abi.TR_WAKE: lambda a, b: {"bits": b},
    abi.TR_TIMEOUT: lambda a, b: {"state": state_name(a)},
    abi.TR_DEADLOCK: lambda a, b: {"peer": a & 0xFF},
    abi.TR_FAULT: _fault,
    abi.TR_RESTART: lambda a, b: {"generation": a, "restarts": b},
    abi.TR_LOG: lambda a, b: {"length": a, "text": ""},
    abi.TR_NAME: lambda a, b: {"length": a, "text": ""},
    abi.TR_TEXT: lambda a, b: {},
    abi.TR_DROPPED: lambda a, b: {"count": b},
    abi.TR_SYSCALL: lambda a, b: {"syscall": SYS_NAMES.get(a, str(a)), "syscall_code": a, "arg": b},
    abi.TR_DENIED: lambda a, b: {"peer": a & 0xFF},
    abi.TR_MEMFAULT: _memfault,
    abi.TR_HEAP: lambda a, b: {"bytes": b},
    abi.TR_BUDGET: lambda a, b: {"budget": BUDGET_NAMES.get(a, str(a)), "value": b},
    abi.TR_STATE: lambda a, b: {"state": state_name(a & 0xFF), "priority": a >> 8,
                                "generation": b},
    abi.TR_BOOT: lambda a, b: {"abi": a, "reset_cause": b & 0xFF, "culprit": b >> 8 & 0xFF},
    abi.TR_HOLD: lambda a, b: {"held": bool(a)},
    abi.TR_PIN: lambda a, b: {"pin": a, "level": b & 1, "ticks_ms": b >> 1},
}


def default_name(slot):
    return "kernel" if slot == KERNEL else f"task{slot}"


class Event:
    """A trace event: kind name, task slot, time, frame seq and named fields.

    ev.kind is the name ("send"), ev.code the number (abi.TR_SEND),
    ev.t_us the board time in µs (start of the slice it happened in,
    unwrapped; None before the first switch), ev["peer"] a field.
    """

    __slots__ = ("kind", "code", "slot", "task", "t_us", "seq", "fields")
    type = "event"

    def __init__(self, code, slot, t_us, seq, fields, task=None):
        self.code = code
        self.kind = abi.TR_NAMES[code]
        self.slot = slot
        self.task = task or default_name(slot)
        self.t_us = t_us
        self.seq = seq
        self.fields = fields

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def as_dict(self):
        d = {"type": "event", "kind": self.kind, "slot": self.slot, "task": self.task,
             "t_us": self.t_us, "seq": self.seq}
        d.update(self.fields)
        return d

    def __repr__(self):
        return f"Event({self.as_dict()!r})"


class Text:
    """A line of console text (without its line ending)."""

    __slots__ = ("text", "t_us")
    type = "text"

    def __init__(self, text, t_us=None):
        self.text = text
        self.t_us = t_us

    def as_dict(self):
        return {"type": "text", "t_us": self.t_us, "text": self.text}

    def __repr__(self):
        return f"Text({self.text!r})"
