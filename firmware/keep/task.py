"""Task-facing interface: the handle a task awaits its syscalls on.

Every task receives one Handle. Each syscall method checks its arguments,
does its work at once (the caller is the running task, so this is the
"trap"), sets what the task waits for, and returns the handle itself. The
handle is the awaitable: its first __next__ yields to the kernel, and when
the kernel resumes the task the second raises a preallocated StopIteration
carrying the result. Nothing on this path allocates.

Results:
- send  -> the handle: h.rc (kernel error < 0, or the server's rc),
  h.rlen, h.rbody (memoryview of the reply body; valid until the next send)
- recv / wait -> the task's Msg: m.rc (OK or E_TIMEOUT), m.sender, m.call,
  m.badge, m.op, m.len, m.body, m.bits (notification bits that woke it),
  m.lease
- reply / notify / sleep_ms / yield_ / log -> an int rc

Invariants:
- _p is 0 (running, no syscall outstanding), 1 (issued, not yet yielded),
  2 (yielded, waiting to be resumed) or 3 (_FRESH: started or stopped,
  not running). Only the running task's handle is ever 0, so every
  syscall's one test `if h._p` on its fast path also catches a call on
  another task's handle; gate() sorts out which case it is. Issuing a
  syscall while _p is 1 or 2 on the own handle is a misuse fault (a
  missing `await`); yielding with _p != 2 means the task awaited something
  that is not its handle, also a misuse fault.
- A bad argument faults the calling task, never the kernel: the syscall
  returns the handle in state 1 so the task yields and is never resumed.
- A syscall on a handle the running task does not own faults the running
  task and leaves the handle's owner untouched.
- A stray positional argument is a badarg fault. Syscalls that bind kernel
  tables as trailing defaults (ipc.py) put a sentinel, `end=_END`, first
  among them, so an extra argument lands there instead of replacing a
  table; the others take *extra.
"""

import micropython
from micropython import const

from . import fault, tcb, trace

_F_BADARG = const(2)  # abi.F_BADARG
_F_MISUSE = const(5)  # abi.F_MISUSE
_F_SELF = const(10)  # abi.F_SELF
_RC_MIN = const(-10)  # abi.RC_MIN
_NONE = const(0xFF)
_FRESH = const(3)  # _p of a task that is not running and not in a syscall (kernel.py copies it)

# keep.kernel sets this when it loads (it imports this module): log reads
# kernel.echo without importing on the syscall path.
kernel = None

HDR = const(4)  # abi.MSG_HDR
BUFS = (bytes, bytearray, memoryview)

# The StopIteration that returns each int rc, index rc - abi.RC_MIN. The
# rcs syscalls return as ints are preallocated: OK, E_DEAD (notify to a dead
# task), E_TOOBIG (an oversize reply). Any other (E_DENIED: a notify without
# a grant) is made on first use and kept; preallocating all eleven kept
# ~0.5 KB of exceptions nothing raises.
RCSTOP = [None] * (1 - _RC_MIN)
_OK = const(10)  # -abi.RC_MIN
RCSTOP[_OK] = StopIteration(0)
RCSTOP[_OK - 1] = StopIteration(-1)  # abi.E_DEAD
RCSTOP[_OK - 4] = StopIteration(-4)  # abi.E_TOOBIG


class Msg:
    """A received message or notification; reused for every recv/wait."""

    # Class-level defaults: an instance pays a table entry for these only
    # once they are set. A server that never waits with a timeout or for
    # notification bits never sets rc or bits (deliver resets them only when
    # they are not 0), a task that only waits never sets call (a wake-up
    # resets it only when it is not -1): its Msg stays a table step smaller.
    lease = None  # set per message only when one is lent
    rc = 0
    bits = 0
    call = -1  # the call this message starts (reply to it), -1 for a notification

    def __init__(self, max_msg):
        # Header + body as copied by the kernel, then the task's reply buffer
        # (Handle.rbuf): one allocation instead of two saves an object header
        # and the heap's rounding, 64 bytes a task on a 64-bit port. The
        # halves never overlap, so a received body stays valid until the
        # next recv while replies to this task's sends land in the other.
        self.buf = bytearray(2 * (HDR + max_msg))
        self.body = memoryview(self.buf)[HDR : HDR + max_msg]
        self.sender = -1  # task id (gen << 8 | slot), -1 for a notification
        self.badge = 0
        self.op = -1
        self.len = 0

    def data(self):
        """A bytes copy of the body (convenience; allocates)."""
        return bytes(self.body[: self.len])


class Handle:
    """A task's kernel interface. Methods are the syscalls (see ipc, notify)."""

    # Class-level defaults: an instance only pays for these (a hash-map
    # entry each) once they are set, and a task without regions never does.
    rc = 0
    rlen = 0
    regions = None  # name -> Region, set by the kernel from the manifest
    _hstop = None  # StopIteration(self), made at the first send: most servers never send

    def __init__(self, slot, max_msg):
        self.slot = slot
        m = Msg(max_msg)
        self.rbody = memoryview(m.buf)[2 * HDR + max_msg :]  # the reply half
        self._p = _FRESH
        self._stop = None
        # The Msg is reached through the StopIteration that returns it (see
        # the m property): no `m` entry keeps the instance at 8 attributes
        # once rc and rlen are set, one 32-byte step of its dict smaller.
        self._mstop = StopIteration(m)

    @property
    def m(self):
        """The task's Msg, the one recv and wait return."""
        return self._mstop.value

    @property
    def id(self):
        """This task's id (generation and slot)."""
        return tcb.gen[self.slot] << 8 | self.slot

    @property
    def rbuf(self):
        """The reply buffer, header + body: the second half of m.buf (a new
        memoryview on each access; the kernel writes through m.buf)."""
        b = self.m.buf
        return memoryview(b)[len(b) >> 1 :]

    @micropython.native
    def __iter__(self):
        return self

    @micropython.native
    def __next__(self):
        # native: no bytecode frame, so the raise below adds no traceback
        if self._p == 1:
            self._p = 2
            return None
        if self._p == 2:
            self._p = 0
            s = self._stop
            s.__traceback__ = None
            raise s
        raise RuntimeError("await on a kernel handle without a syscall")

    def reply_data(self):
        """A bytes copy of the last reply body (convenience; allocates)."""
        return bytes(self.rbody[: self.rlen])


def ret(h, rc):
    """Finish a syscall that returns the int rc without blocking."""
    s = RCSTOP[rc + _OK]
    if s is None:
        s = RCSTOP[rc + _OK] = StopIteration(rc)
    h._stop = s
    h._p = 1
    return h


def bad(h, kind, detail=0, info=None):
    """Fault the calling task for a bad syscall; it yields and never resumes."""
    h._p = 1
    fault.fault(h.slot, kind, detail, info)
    return h


def gate(h, extra=False):
    """Every syscall's entry check, on its slow path (h._p != 0, or a stray
    argument). Returns None when the syscall may go on, else the awaitable
    it must return: the caller is faulted.

    - h is not the running task's handle (another task's, reached through
      an argument or tcb.handle): the running task is faulted (misuse) and
      h's owner is left as it was. Outside any task there is no one to
      fault: RuntimeError.
    - h._p is FRESH: the task's first syscall since it started; go on.
    - h._p is 1 or 2: a syscall without await (misuse).
    - extra: a stray positional argument (badarg).
    """
    cur = tcb.cur
    if h.slot != cur:
        if cur == _NONE:
            raise RuntimeError("syscall outside a task")
        own = tcb.handle[cur]
        own._p = 1
        fault.fault(cur, _F_MISUSE, h.slot, "syscall on task %d's handle" % h.slot)
        return own
    if h._p == _FRESH:
        h._p = 0
    elif h._p:  # 1 or 2: the `await` of an earlier syscall was forgotten
        return bad(h, _F_MISUSE, 0, "syscall without await")
    if extra:
        return bad(h, _F_BADARG, 0, "stray argument")
    return None


def yield_(h, *extra):
    """Give up the CPU; the task stays runnable (round-robin)."""
    if h._p or extra:
        r = gate(h, extra)
        if r is not None:
            return r
    return ret(h, 0)


def log(h, text, *extra):
    """Put a line in the trace (bytes avoid the str -> bytes copy)."""
    if h._p or extra:
        r = gate(h, extra)
        if r is not None:
            return r
    if isinstance(text, str):
        text = text.encode()
    elif not isinstance(text, BUFS):
        return bad(h, _F_BADARG, 0, "log: text must be str or bytes")
    n = len(text)
    if n > 255:
        n = 255
    trace.write_text(h.slot, text, n)
    if kernel.echo:
        print("[%s] %s" % (tcb.name[h.slot], bytes(text[:n]).decode()))
    return ret(h, 0)


def region(h, name):
    """k.region(name), until keep.mem loads and binds its own: the module
    loads only in apps that declare a region (tasks with one load it at
    spawn), so this path is a task asking for a region it does not have."""
    from . import mem

    return mem._handle_region(h, name)


Handle.region = region


def fault_self(h, reason=None, *extra):
    """Fault the calling task on purpose (its own assertion failed)."""
    if h._p or extra:
        r = gate(h, extra)
        if r is not None:
            return r
    return bad(h, _F_SELF, 0, reason)
