"""Fault injection, hold and release for tests and users (host-facing).

The console command channel (runtime/console.py) calls these between slices,
from the kernel's tick or idle hook, as `keep fault/hold/release` do on the
host. Tasks use the supervisor calls instead (k.sv_inject, k.sv_hold).
Each returns 0 or a negative abi.E_* code; `last` holds a one-line reason.

Kinds (inject):
- "exception": the task faults as if it raised (F_EXCEPTION).
- "memory":    a memory fault of the task (F_MEMORY, with a TR_MEMFAULT).
- "budget":    a slice-budget overrun (F_BUDGET_TIME, with a TR_BUDGET).
- "stale":     restart the task with a new generation, so every id others
               hold for it is stale: their next send gets E_DEAD.
- "malformed": corrupt the oldest message queued at a server (its body
               replaced by 5 garbage bytes, its op by 0xEE, which no server
               knows); the server must answer it with an error, or fault.
- "injected":  a plain injected fault (F_INJECTED).
A fault reaches the supervisor like any other (NOTE_FAULT), which then
applies the task's disposition.

Invariants:
- Never called during a slice (tcb.cur != NONE): the running task's state
  is the kernel loop's to change. Refused with E_BUSY.
- Slot 0 (the supervisor) cannot be faulted from here: E_DENIED.
"""

from micropython import const

from keep import fault, kernel, tcb, trace

_ACC_WRITE = const(2)  # abi.ACC_WRITE
_E_BADARG = const(-7)  # abi.E_BADARG
_E_BUSY = const(-9)  # abi.E_BUSY
_E_DEAD = const(-1)  # abi.E_DEAD
_E_DENIED = const(-5)  # abi.E_DENIED
_F_BUDGET_TIME = const(8)  # abi.F_BUDGET_TIME
_F_EXCEPTION = const(1)  # abi.F_EXCEPTION
_F_INJECTED = const(9)  # abi.F_INJECTED
_ST_EMPTY = const(9)  # abi.ST_EMPTY
_ST_FAULTED = const(6)  # abi.ST_FAULTED
_ST_HELD = const(7)  # abi.ST_HELD
_TR_BUDGET = const(18)  # abi.TR_BUDGET

_NONE = const(0xFF)
KINDS = ("exception", "memory", "budget", "stale", "malformed", "injected")
last = ""
_GARBAGE = b"\xff\xfe\x00\x13\x37"


class InjectedFault(Exception):
    pass


def slot_of(target):
    """A slot from a slot number, task id or name; -1 if there is none."""
    if isinstance(target, str):
        i = kernel.lookup(target)
        return i & 0xFF if i >= 0 else -1
    if isinstance(target, int) and target >= 0:
        s = target & 0xFF
        return s if s < tcb.ntasks else -1
    return -1


def _check(target, allow_sup=False):
    global last
    if tcb.cur != _NONE:
        last = "busy: a task is running (call between slices)"
        return -1, _E_BUSY
    s = slot_of(target)
    if s < 0 or tcb.state[s] == _ST_EMPTY:
        last = "no task %r" % (target,)
        return -1, _E_BADARG
    if s == fault.supervisor and not allow_sup:
        last = "the supervisor cannot be faulted or held from here"
        return -1, _E_DENIED
    return s, 0


def inject(target, kind="exception"):
    """Inject a fault of `kind` (see KINDS) into a task."""
    global last
    s, rc = _check(target)
    if rc:
        return rc
    st = tcb.state[s]
    if kind == "malformed":
        c = tcb.sq_head[s]
        if c == _NONE:
            last = "%s has no queued message to corrupt" % tcb.name[s]
            return _E_BUSY
        # The queued message waits in its sender's reply buffer (copied at
        # send, keep/ipc.py): header version, op, u16 length, then the body.
        b = tcb.handle[c].m.buf
        o = len(b) >> 1
        n = min(len(_GARBAGE), tcb.max_msg)
        b[o + 1] = 0xEE
        b[o + 2] = n
        b[o + 3] = 0
        b[o + 4 : o + 4 + n] = _GARBAGE[:n]
        last = "corrupted the message from %s queued at %s" % (tcb.name[c], tcb.name[s])
        return 0
    if st >= _ST_FAULTED and kind != "stale":
        from keep.faultnames import STATES  # loaded only when a message needs a name

        last = "%s is not running (%s)" % (tcb.name[s], STATES.split()[st])
        return _E_DEAD
    if kind == "exception":
        fault.fault(s, _F_EXCEPTION, 0, InjectedFault("injected exception"))
    elif kind == "memory":
        fault.violation(s, 0, _ACC_WRITE, 0xFFFF, 1, "injected memory fault")
    elif kind == "budget":
        trace.write(_TR_BUDGET, s, 2, 0)
        fault.fault(s, _F_BUDGET_TIME, 0, "injected budget overrun")
    elif kind == "stale":
        if st == _ST_HELD:
            last = "%s is held" % tcb.name[s]
            return _E_DEAD
        kernel.restart(s)
    elif kind == "injected":
        fault.fault(s, _F_INJECTED, 0, "injected")
    else:
        last = "unknown kind %r (one of %s)" % (kind, ", ".join(KINDS))
        return _E_BADARG
    last = "%s: %s injected" % (tcb.name[s], kind)
    return 0


def hold(target):
    """Stop a task until released; its clients get E_DEAD."""
    return _act(target, kernel.hold, lambda s: "%s held" % tcb.name[s])


def release(target):
    """Start a held or faulted task again as a fresh instance."""
    return _act(target, kernel.release,
                lambda s: "%s released (gen %d)" % (tcb.name[s], tcb.gen[s]))


def _act(target, act, said):
    """hold and release: check the target, act(slot), last = said(slot)."""
    global last
    s, rc = _check(target)
    if rc:
        return rc
    act(s)
    last = said(s)
    return 0
