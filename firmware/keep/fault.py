"""Faults: stop one task, keep what it was doing, never stop the kernel.

A fault takes the task out of every queue it is on, records what happened
and where, wakes every client blocked on it with E_DEAD, and tells the
supervisor (a hook and the NOTE_FAULT notification bit). Restart policy is
not here: the supervisor task decides (mechanism here, policy in a task).

Invariants:
- After fault(s) no queue, timer or peer link refers to s, and no task is
  left waiting on s.
- The record keeps the state the task was in, so a fault while IN_SEND to
  a server still says which server.
- The fault path may allocate (the record, the message); hot paths never
  fault.
"""

from micropython import const

from . import sched, tcb, trace

# keep.kernel sets these when it loads (they import this module). fault()
# runs inside the kernel loop, also when the heap is full, and a relative
# import in a function builds the module's full name on the heap.
ipc = kernel = notify = None

_E_DEAD = const(-1)  # abi.E_DEAD
_NOTE_FAULT = const(536870912)  # abi.NOTE_FAULT
_ST_DONE = const(8)  # abi.ST_DONE
_ST_EMPTY = const(9)  # abi.ST_EMPTY
_ST_FAULTED = const(6)  # abi.ST_FAULTED
_ST_IN_REPLY = const(2)  # abi.ST_IN_REPLY
_ST_IN_SEND = const(1)  # abi.ST_IN_SEND
_ST_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_TR_FAULT = const(9)  # abi.TR_FAULT

# slot -> FaultRecord of its last fault (kept across restarts for inspection)
records = {}
# Called as hook(slot) after every fault; the supervisor installs it.
hook = None
supervisor = 0xFF  # slot notified with abi.NOTE_FAULT, 0xFF = none
count = 0


class FaultRecord:
    """What happened to a task: kind, detail, where, and its prior state."""

    def __init__(self, slot, kind, prev_state, prev_peer, detail, info, t_ms):
        self.slot = slot
        self.gen = tcb.gen[slot]
        self.kind = kind
        self.prev_state = prev_state
        self.prev_peer = prev_peer
        self.detail = detail
        self.info = info  # exception object or message
        self.t_ms = t_ms

    def where(self):
        """The innermost traceback line of an exception fault outside the
        kernel's own files (a MemoryFault is raised inside keep/mem.py),
        else ''."""
        exc = self.info
        if not isinstance(exc, BaseException):
            return ""
        lines = _frames(exc)
        kdir = _kernel_dir()
        while len(lines) > 1 and _dir_of(lines[-1]) == kdir:
            lines.pop()
        return lines[-1] if lines else ""

    def text(self):
        from .faultnames import STATES, fault_name

        st = STATES.split()[self.prev_state]
        if self.prev_state in (_ST_IN_SEND, _ST_IN_REPLY):
            st += "(%d)" % self.prev_peer
        msg = "%s: %s fault (%s)" % (tcb.name[self.slot], fault_name(self.kind), st)
        if self.info is not None:
            info = self.info
            if isinstance(info, BaseException):
                info = "%s: %s" % (type(info).__name__, info)
            msg += " " + str(info)
        w = self.where()
        if w:
            msg += " at " + w
        return msg


# How tracebacks spell this package's directory: "keep/" for deployed .mpy
# files, "/rom/keep/" in a ROMFS image, "/abs/.../keep/" when run from
# source. Learnt once from a traceback of our own, because a test
# for "keep/" in the path also matches every file of a checkout that is
# itself named keep. Not from __file__: a .mpy's traceback names the source
# path it was compiled from ("keep/mem.py"), __file__ the file it was
# loaded from ("/lib/keep/mem.mpy"). Only where() needs it (the fault path
# may allocate).
_kdir = None


def _frames(exc):
    """The 'File "...", line N, in f' lines of exc's traceback, innermost last."""
    import io
    import sys

    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return [ln.strip() for ln in buf.getvalue().split("\n") if ln.strip().startswith("File")]


def _dir_of(line):
    """'File "a/b/c.py", line 3, in f' -> 'a/b/' ('' without a directory)."""
    end = line.find('"', 6)
    return line[6:line.rfind("/", 6, end) + 1] if end > 0 else None


def _kernel_dir():
    global _kdir
    if _kdir is None:
        try:
            raise ValueError
        except ValueError as probe:  # raised here, in this package
            f = _frames(probe)
            _kdir = _dir_of(f[-1]) if f else ""
    return _kdir


def reset():
    global hook, supervisor, count
    records.clear()
    hook = None
    supervisor = 0xFF
    count = 0


def unlink_sender(s):
    """Take an IN_SEND task off its server's sender queue."""
    srv = tcb.peer[s]
    prev = 0xFF
    cur = tcb.sq_head[srv]
    while cur != 0xFF:
        if cur == s:
            if prev == 0xFF:
                tcb.sq_head[srv] = tcb.sq_next[s]
            else:
                tcb.sq_next[prev] = tcb.sq_next[s]
            break
        prev = cur
        cur = tcb.sq_next[cur]
    tcb.sq_next[s] = 0xFF
    tcb.slease[s] = None


def detach(s):
    """Remove slot s from every queue and wait it is part of.

    Returns the server it was blocked on (0xFF if none) so the caller can
    recompute that server's inherited priority.
    """
    st = tcb.state[s]
    srv = 0xFF
    if st == _ST_RUNNABLE:
        sched.remove(s)
    elif st == _ST_IN_SEND:
        srv = tcb.peer[s]
        unlink_sender(s)
    elif st == _ST_IN_REPLY:
        srv = tcb.peer[s]
    if tcb.alease[s] is not None:
        lease = tcb.alease[s]
        tcb.alease[s] = None
        lease.end()
    tcb.timed[s] = 0
    return srv


_NO_TEXT = b"fault (no heap left to describe it)"


def fault(s, kind, detail=0, info=None):
    """Fault task s. Safe to call for the running task or any other."""
    global count
    prev = tcb.state[s]
    if prev in (_ST_FAULTED, _ST_EMPTY, _ST_DONE):
        return
    # The record and its text need heap; a full heap (often the very cause
    # of the fault) must cost only them, never the fault itself: a
    # MemoryError here would otherwise end kernel.run().
    try:
        records[s] = FaultRecord(s, kind, prev, tcb.peer[s], detail, info, kernel.now_ms())
    except MemoryError:
        records.pop(s, None)  # no record (the supervisor reads None as "?")
    count += 1
    srv = 0xFF if s == tcb.cur else detach(s)
    if s == tcb.cur and prev != _ST_RUNNABLE:
        srv = detach(s)
    tcb.state[s] = _ST_FAULTED
    # detail as it is: the viper write keeps its low 32 bits. Masking here
    # (detail & 0xFFFFFFFF) built a long int on a 32-bit port, where that
    # constant is no small int: a MemoryError in a full heap, which ended
    # kernel.run() on the Pico (tests/firmware/kernel_faults.py).
    trace.write(_TR_FAULT, s, kind | prev << 8, detail)
    if srv != 0xFF:
        ipc.reprioritise(srv)
    ipc.release_clients(s, _E_DEAD)
    tcb.notes[s] = 0
    kernel.retire(s)
    msg = None
    raw = _NO_TEXT
    rec = records.get(s)
    if rec is not None:
        try:
            msg = rec.text()
            raw = msg.encode()
        except MemoryError:  # (one type: a tuple of them would be built on the heap)
            msg = None  # raw is still _NO_TEXT: encode() is the last step
    trace.write_text(s, raw, len(raw))
    if kernel.echo and msg is not None:
        print("[keep]", msg)
    if supervisor != 0xFF and supervisor != s:
        notify.post(supervisor, _NOTE_FAULT)
    if hook is not None:
        hook(s)
