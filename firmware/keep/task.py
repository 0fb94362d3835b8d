# Declared hot path (docs/performance.md, "Rules"): send, recv, reply and the
# Handle's awaitable protocol (__iter__, __next__). MicroPython speed and RAM
# tricks are allowed there, each under one of those rules; the rest of this
# module is plain code.
"""The syscall surface: every syscall, its argument and owner checks, the
handle a task awaits them on.

Every task receives one Handle (conventionally named k). Its methods are
the syscalls: the Handle class defines every one itself, each def marked
with its abi.SYS_* number (tests/host/test_syscall_surface.py checks
those, abi.py and docs/kernel.md's reference against each other), so the
set does not depend on what else was imported. Each syscall checks its arguments, does
its work at once (the caller is the running task, so this is the "trap"),
sets what the task waits for, and returns the handle itself. The handle
is the awaitable: its first __next__ yields to the kernel, and when the
kernel resumes the task the second raises a preallocated StopIteration
carrying the result. Nothing on this path allocates.

Results:
- send  -> the handle: h.rc (kernel error < 0, or the server's rc),
  h.rlen, h.rbody (memoryview of the reply body; valid until the next send)
- recv / wait -> the task's Msg: m.rc (OK or E_TIMEOUT), m.sender, m.call,
  m.badge, m.op, m.len, m.body, m.bits (notification bits that woke it),
  m.lease
- reply / notify / sleep_ms / yield_ / log -> an int rc
- lookup, region and the sv_* calls are immediate: called without await,
  they return their result and never block.

Invariants:
- _p is 0 (running, no syscall outstanding), 1 (issued, not yet yielded),
  2 (yielded, waiting to be resumed) or 3 (_FRESH: started or stopped,
  not running). Only the running task's handle is ever 0, so every
  syscall's one test `if h._p` on its fast path also catches a call on
  another task's handle; gate() sorts out which case it is. Issuing a
  syscall while _p is 1 or 2 on the own handle is a misuse fault (a
  missing `await`); yielding with _p != 2 means the task awaited something
  that is not its handle, also a misuse fault.
- One guard: gate() (and owner() inside it, which the immediate calls use
  too) makes the owner, await and stray-argument checks for every syscall.
  A bad argument faults the calling task, never the kernel: the syscall
  returns the handle in state 1 so the task yields and is never resumed.
- A syscall on a handle the running task does not own faults the running
  task and leaves the handle's owner untouched.
- A stray positional argument is a badarg fault. Syscalls that bind kernel
  tables as trailing defaults put a sentinel, `end=_END`, first among
  them, so an extra argument lands there instead of replacing a table;
  the others take *extra.
- Nothing here imports inside a function: this module sits on top of the
  kernel's import graph (docs/kernel.md, "Modules").

Hot path (send, recv, reply; docs/performance.md, "Rules"): these take
the kernel tables they use as trailing defaults (`state=state`), because
every module-global or builtin name is a hash-map lookup on each use,
while a positional default is bound once, at import, and read as a local
(keyword-only defaults would be looked up by name on every call); the
profile (callgrind) showed dictionary lookups were the largest cost of a
round trip. They are @micropython.native: a bytecode function whose frame
is larger than the VM's on-stack limit (11 words) gets its frame from the
heap on every call, and native code keeps it on the C stack, so the round
trip touches the heap not at all (bench: ipc_alloc_bytes_per_roundtrip).
"""

import micropython
from micropython import const

from . import caps, fault, ipc, notify, sched, svc, tcb, timers, trace, transition

_E_DEAD = const(-1)  # abi.E_DEAD
_E_DEADLOCK = const(-2)  # abi.E_DEADLOCK
_E_DENIED = const(-5)  # abi.E_DENIED
_E_TOOBIG = const(-4)  # abi.E_TOOBIG
_F_BADARG = const(2)  # abi.F_BADARG
_F_BADREPLY = const(3)  # abi.F_BADREPLY
_F_NOTASK = const(4)  # abi.F_NOTASK
_F_MISUSE = const(5)  # abi.F_MISUSE
_F_MEMORY = const(6)  # abi.F_MEMORY
_F_INJECTED = const(9)  # abi.F_INJECTED
_F_SELF = const(10)  # abi.F_SELF
_NOTE_KERNEL = const(536870912)  # abi.NOTE_KERNEL
_RC_MIN = const(-10)  # abi.RC_MIN
_TMAX = const(0x1FFFFFFF)  # abi.TIMEOUT_MAX_MS
_TR_DEADLOCK = const(8)  # abi.TR_DEADLOCK
_TR_DENIED = const(15)  # abi.TR_DENIED
_TR_MEMFAULT = const(16)  # abi.TR_MEMFAULT
_TR_NOTIFY = const(5)  # abi.TR_NOTIFY
_TR_WAKE = const(6)  # abi.TR_WAKE
_ACC_READ = const(1)  # abi.ACC_READ
_HDR = const(4)  # abi.MSG_HDR

_NONE = const(0xFF)
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_IN_SEND = const(1)  # abi.ST_IN_SEND
_IN_REPLY = const(2)  # abi.ST_IN_REPLY
_IN_RECV = const(3)  # abi.ST_IN_RECV
_IN_WAIT = const(4)  # abi.ST_IN_WAIT
_SLEEPING = const(5)  # abi.ST_SLEEPING
_FAULTED = const(6)  # abi.ST_FAULTED
_EMPTY = const(9)  # abi.ST_EMPTY
_MAX_TASKS = const(16)  # tcb.MAX_TASKS (checked by tests/host/test_abi_consistency.py)
_XMAX = const(0x3FFFFFFF)  # the largest ~call id: abi.CALL_MAX << 8 | 0xFF
_END = const(0x4B45)  # the stray-argument sentinel (any int no caller passes by chance)
_FRESH = const(3)  # _p of a task that is not running and not in a syscall
_NEW = const(0)  # keep/mem.py NEW: a lease not yet lent

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
        self.buf = bytearray(2 * (_HDR + max_msg))
        self.body = memoryview(self.buf)[_HDR : _HDR + max_msg]
        self.sender = -1  # task id (gen << 8 | slot), -1 for a notification
        self.badge = 0
        self.op = -1
        self.len = 0

    def data(self):
        """A bytes copy of the body (convenience; allocates)."""
        return bytes(self.body[: self.len])

    def _woken(self, rc, bits, recv):
        """The task wakes without a message (notification bits or a timeout):
        rc and bits; after a recv also no sender, call, op or body."""
        self.rc = rc
        self.bits = bits
        if recv:
            self.sender = -1
            if self.call != -1:  # (a class default until a message sets it)
                self.call = -1
            self.op = -1
            self.len = 0


# ---- the guard: every syscall's owner, await and argument checks ------------


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


def owner(h):
    """The caller-owns-handle check. None when h is the running task's
    handle; else (another task's handle, reached through an argument or
    tcb.handle) the running task is faulted (misuse), h's owner is left as
    it was, and the running task's own handle is returned. Outside any task
    there is no one to fault: RuntimeError."""
    cur = tcb.cur
    if h.slot == cur:
        return None
    if cur == _NONE:
        raise RuntimeError("syscall outside a task")
    own = tcb.handle[cur]
    own._p = 1
    fault.fault(cur, _F_MISUSE, h.slot, "syscall on task %d's handle" % h.slot)
    return own


def gate(h, extra=False):
    """Every awaited syscall's entry check, on its slow path (h._p != 0, or
    a stray argument). Returns None when the syscall may go on, else the
    awaitable it must return: the caller is faulted.

    - h is not the running task's handle: owner() faults the running task.
    - h._p is FRESH: the task's first syscall since it started; go on.
    - h._p is 1 or 2: a syscall without await (misuse).
    - extra: a stray positional argument (badarg).
    """
    own = owner(h)
    if own is not None:
        return own
    if h._p == _FRESH:
        h._p = 0
    elif h._p:  # 1 or 2: the `await` of an earlier syscall was forgotten
        return bad(h, _F_MISUSE, 0, "syscall without await")
    if extra:
        return bad(h, _F_BADARG, 0, "stray argument")
    return None


def offer(h, lease):
    """send's check of a lease it is handed: a NEW lease (keep/mem.py) of
    the sending task's own region. Otherwise the sender faults (False)."""
    ok = type(lease) is tcb.lease_class  # None until keep.mem loads: no lease exists
    if ok and lease.owner == h.slot and lease.state == _NEW:
        return True
    tag = lease.region.index | 0x80 if ok else 0xFF  # keep/mem.py LEASE_TAG
    trace.write(_TR_MEMFAULT, h.slot, _ACC_READ | tag << 8, 0)
    bad(h, _F_MEMORY, 0, fault.MemoryFault(
        "send: lease is not a fresh lease of this task's region" if ok
        else "send: lease must be a Lease"))
    return False


def _rc(h, rc):
    """send's immediate failure: the handle carries rc, no reply."""
    h.rc = rc
    h.rlen = 0
    h._stop = h._hstop
    h._p = 1
    return h


def _priv(h, slot):
    """The supervisor calls' check (keep/svc.py is their mechanism): immediate,
    and reserved to the supervisor task, the privilege being the caller's
    slot. A call on another task's handle faults the running task (misuse,
    owner()); one from a task that is not the supervisor, or naming no
    slot, faults the caller (badarg). Either returns False: the call
    returns -1 (sv_status, sv_task: None) and the caller stops at its next await."""
    if owner(h) is not None:
        return False
    if h.slot != fault.supervisor:
        bad(h, _F_BADARG, 0, "supervisor call from a task that is not the supervisor")
        return False
    if type(slot) is not int or not 0 <= slot < tcb.ntasks:
        bad(h, _F_BADARG, 0, "supervisor call: no slot %r" % (slot,))
        return False
    return True


class Handle:
    """A task's kernel interface: the syscalls, and the awaitable they return.

    Syscalls are defined here and nowhere else; the helpers they share are
    the module's functions above (the guard), keep/ipc.py (the message copy),
    keep/notify.py (post, grants), keep/timers.py (arm) and keep/svc.py (the
    supervision mechanism). Each syscall's first parameter, h, is the
    handle (self)."""

    # Class-level defaults: an instance only pays for these (a hash-map
    # entry each) once they are set, and a task without regions never does.
    rc = 0
    rlen = 0
    regions = None  # name -> Region, set by the kernel from the manifest
    _hstop = None  # StopIteration(self), made at the first send: most servers never send

    def __init__(self, slot, max_msg):
        self.slot = slot
        m = Msg(max_msg)
        self.rbody = memoryview(m.buf)[2 * _HDR + max_msg :]  # the reply half
        self._p = _FRESH
        self._stop = None
        # recv and wait return m by raising this one StopIteration, made
        # once (docs/performance.md, "Rules": preallocated results).
        self._mstop = StopIteration(m)
        # Hot path (docs/performance.md, "Rules": no property on Handle):
        # m is a plain attribute and id() a method, not properties. A class with a
        # property makes MicroPython look the class up on *every* attribute
        # store to its instances (h._p, h._stop, h.rc: 14 a round trip),
        # and that was 21.5 % of a round trip (callgrind 109,820 -> 86,186
        # instructions), for one entry more in the instance's dict.
        self.m = m  # the task's Msg, the one recv and wait return

    def id(self):
        """This task's id (generation << 8 | slot). A method, not a property
        or an attribute: see __init__, and an attribute would cost every
        task a step of its dict (16 bytes on a Pico)."""
        return tcb.gen[self.slot] << 8 | self.slot

    def rbuf(self):
        """The reply buffer, header + body: the second half of m.buf (a new
        memoryview on each call; the kernel writes through m.buf). A method,
        not a property: see __init__."""
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

    # ---- the syscalls, in abi.SYS_* order ------------------------------------------
    # (the `# abi.SYS_*` comment on each def is what tests/host/test_syscall_surface.py
    # reads: the number, the signature and docs/kernel.md's reference agree)

    # -- IPC (hot path: see the module docstring) --

    @micropython.native
    def send(h, dest, op, data=None, lease=None, timeout_ms=None,  # abi.SYS_SEND
             end=_END, state=tcb.state, peer=tcb.peer, gen=tcb.gen, held=tcb.held, call=tcb.call,
             handle=tcb.handle, mbuf=tcb.mbuf, timed=tcb.timed, prio=tcb.prio, slease=tcb.slease,
             sq_head=tcb.sq_head, sq_next=tcb.sq_next, push=sched.push,
             tw=trace.write, copy=ipc.copy, deliver=ipc.deliver, boost=transition.boost, len=len,
             isinstance=isinstance):
        """Call server `dest` with `op` and `data`; wait for its reply."""
        if h._p or end != _END:
            r = gate(h, end != _END)
            if r is not None:
                return r
        me = h.slot
        hs = h._hstop
        if hs is None:  # the task's first send: the StopIteration that returns the handle
            hs = h._hstop = StopIteration(h)
        try:
            s = dest & 0xFF  # `& ` raises TypeError for anything but an int
            if op & 0 or op < 0 or op > 255 or dest < 0:
                raise TypeError
            if timeout_ms is not None and (timeout_ms & 0 or timeout_ms < 0 or timeout_ms > _TMAX):
                raise TypeError
            n = 0 if data is None else len(data)
        except TypeError:
            return bad(h, _F_BADARG, 0, "send(dest, op, data, lease, timeout_ms): bad argument")
        # Slots past the last task are EMPTY; past MAX_TASKS there is no slot at all.
        if s >= _MAX_TASKS or state[s] == _EMPTY:
            return bad(h, _F_NOTASK, dest & 0xFFFFFFFF, "send: no task %d" % dest)
        if n and not isinstance(data, BUFS):
            return bad(h, _F_BADARG, 0, "send: data must be bytes-like")
        if lease is not None and not offer(h, lease):  # not this task's lease: it faulted
            return h
        badge = 0
        if caps.grants is not None:
            badge = caps.grants[me].get(s, -1)
            if badge < 0:
                tw(_TR_DENIED, me, s, 0)
                return _rc(h, _E_DENIED)
        if n > tcb.max_msg:
            tw(2, me, s | op << 8, n)  # abi.TR_SEND
            return _rc(h, _E_TOOBIG)
        if gen[s] != dest >> 8 or state[s] >= _FAULTED:
            tw(2, me, s | op << 8, n)  # abi.TR_SEND
            return _rc(h, _E_DEAD)
        # Deadlock: follow who `s` waits for; reaching the caller closes a cycle.
        t = s
        while True:
            if t == me:
                tw(_TR_DEADLOCK, me, s, 0)
                return _rc(h, _E_DEADLOCK)
            ts = state[t]
            if ts != _IN_SEND and ts != _IN_REPLY:
                break
            t = peer[t]
        # A new call: the next number (an earlier call of this task is over
        # now, and a late reply to it is told apart by the number).
        q = call[me] + 256
        call[me] = q if q <= _XMAX else 256 | me
        peer[me] = s
        if state[s] == _IN_RECV:  # the server waits: hand the message over now
            # One record says both: sent, and received at once (abi.TR_DELIVERED).
            tw(2, me, s | op << 8, n | 0x8000)  # abi.TR_SEND
            deliver(handle[s].m, s, me, op, data, 0, n, lease, badge, False)
            state[me] = _IN_REPLY
            held[me] = s
            timed[s] = 0
            state[s] = _RUNNABLE
            push(s)
        else:
            tw(2, me, s | op << 8, n)  # abi.TR_SEND
            # Copy at send, into this task's own reply buffer (free while the
            # call waits): later changes to `data` cannot reach the server.
            b = mbuf[me]
            copy(b, len(b) >> 1, op, data, 0, n)
            state[me] = _IN_SEND
            held[me] = _NONE
            slease[me] = lease
            # Append to the server's sender queue (FIFO among equals).
            sq_next[me] = _NONE
            q = sq_head[s]
            if q == _NONE:
                sq_head[s] = me
            else:
                while sq_next[q] != _NONE:
                    q = sq_next[q]
                sq_next[q] = me
        if prio[me] < prio[s]:  # sched.more_important, inlined on the hot path
            boost(s, prio[me])
        if timeout_ms is not None:
            timers.arm(me, timeout_ms)
        h._stop = hs
        h._p = 1
        return h

    @micropython.native
    def recv(h, timeout_ms=None, mask=0,  # abi.SYS_RECV
             end=_END, state=tcb.state, sq_head=tcb.sq_head, sq_next=tcb.sq_next, recvs=tcb.recvs,
             notes=tcb.notes, held=tcb.held, mbuf=tcb.mbuf, prio=tcb.prio,
             slease=tcb.slease, deliver=ipc.deliver, tw=trace.write, len=len):
        """Wait for a message, or for notification bits in `mask`."""
        if h._p or end != _END:
            r = gate(h, end != _END)
            if r is not None:
                return r
        me = h.slot
        try:
            if mask & 0 or mask < 0 or mask > 0xFFFFFFFF:
                raise TypeError
            if timeout_ms is not None and (timeout_ms & 0 or timeout_ms < 0 or timeout_ms > _TMAX):
                raise TypeError
        except TypeError:
            return bad(h, _F_BADARG, 0, "recv(timeout_ms, mask): bad argument")
        h._stop = h._mstop
        m = h.m
        h._p = 1
        recvs[me] += 1  # a server that keeps calling recv is alive (supervisor heartbeat)
        if mask:
            pend = notes[me] & mask
            if pend:
                notes[me] ^= pend
                m.bits = pend
                m.sender = -1
                if m.call != -1:  # (a class default until a message sets it)
                    m.call = -1
                m.op = -1
                m.len = 0
                m.rc = 0
                tw(_TR_WAKE, me, 0, pend)
                return h
        c = sq_head[me]
        if c == _NONE:
            state[me] = _IN_RECV
            tcb.mask[me] = mask
            if timeout_ms is not None:
                timers.arm(me, timeout_ms)
            return h
        # Serve the most important queued client first, FIFO among equals.
        best = c
        q = sq_next[c]
        if q == _NONE:
            sq_head[me] = _NONE
        else:
            prev_best = _NONE
            prev = c
            while q != _NONE:
                if prio[q] < prio[best]:  # sched.more_important
                    best = q
                    prev_best = prev
                prev = q
                q = sq_next[q]
            if prev_best == _NONE:
                sq_head[me] = sq_next[best]
            else:
                sq_next[prev_best] = sq_next[best]
            sq_next[best] = _NONE
        # The message waits in the client's reply buffer, header included.
        b = mbuf[best]
        o = len(b) >> 1
        lease = slease[best]
        slease[best] = None
        deliver(m, me, best, b[o + 1], b, o + _HDR, b[o + 2] | b[o + 3] << 8, lease,
                0 if caps.grants is None else caps.grants[best].get(me, 0))
        state[best] = _IN_REPLY
        held[best] = me
        return h

    @micropython.native
    def reply(h, call_id, rc=0, data=None,  # abi.SYS_REPLY
              end=_END, state=tcb.state, peer=tcb.peer, held=tcb.held, call=tcb.call,
              timed=tcb.timed, handle=tcb.handle, mbuf=tcb.mbuf, alease=tcb.alease,
              prio=tcb.prio, base=tcb.base, push=sched.push, tw=trace.write, copy=ipc.copy,
              end_lease=transition.end_lease, reprioritise=transition.reprioritise, len=len,
              isinstance=isinstance, ok=RCSTOP[-_RC_MIN]):
        """Answer the call call_id (m.call of the message) with rc and data.
        Never blocks."""
        if h._p or end != _END:
            r = gate(h, end != _END)
            if r is not None:
                return r
        me = h.slot
        try:
            x = ~call_id  # the call's number << 8 | the client's slot
            if rc & 0 or rc < -128 or rc > 127:
                raise TypeError
            n = 0 if data is None else len(data)
        except TypeError:
            return bad(h, _F_BADARG, 0, "reply(call, rc -128..127, data): bad argument")
        if n and not isinstance(data, BUFS):
            return bad(h, _F_BADARG, 0, "reply: data must be bytes-like")
        c = x & 0xFF
        if c < _MAX_TASKS and x == call[c]:  # the client's latest call
            if held[c] != me:
                # (answered already, or never received: each text is RAM on a board)
                return bad(h, _F_BADREPLY, c, "reply to task %d: call not held" % c)
            if n > tcb.max_msg:
                tw(4, me, c | (_E_TOOBIG & 0xFF) << 8, n)
                return ret(h, _E_TOOBIG)
            held[c] = _NONE
            if alease[c] is not None:
                end_lease(c)
            if state[c] == _IN_REPLY and peer[c] == me:
                hc = handle[c]
                b = mbuf[c]  # the reply half follows the received one
                copy(b, len(b) >> 1, rc & 0xFF, data, 0, n)
                hc.rc = rc
                hc.rlen = n
                timed[c] = 0
                state[c] = _RUNNABLE
                push(c)
                tw(4, me, c | (rc & 0xFF) << 8, n)  # abi.TR_REPLY
                if prio[me] != base[me]:
                    reprioritise(me)
                h._stop = ok
                h._p = 1
                return h
        # A call id is ~x with x = number (1..CALL_MAX) << 8 | slot: a task id
        # (m.sender, >= 0) or a notification's m.call (-1) is not one.
        elif x < 256 or x > _XMAX or c >= _MAX_TASKS or state[c] == _EMPTY:
            return bad(h, _F_BADREPLY, call_id & 0xFFFFFFFF, "reply to %d: not m.call" % call_id)
        # The call is over: the client timed out, faulted or restarted while
        # this task held it, or has made a newer call since. Drop, and say so.
        tw(4, me, c | (rc & 0xFF) << 8, n | 0x10000)  # abi.TR_REPLY, dropped
        h._stop = ok
        h._p = 1
        return h

    # -- notifications --

    def notify(h, dest, bits, *extra):  # abi.SYS_NOTIFY
        """Set notification `bits` on task `dest`. Never blocks."""
        if h._p or extra:
            r = gate(h, extra)
            if r is not None:
                return r
        if type(dest) is not int or type(bits) is not int or bits < 0 or bits > 0xFFFFFFFF:
            return bad(h, _F_BADARG, 0, "notify: dest and bits (32-bit) must be ints")
        if bits & _NOTE_KERNEL:
            return bad(h, _F_BADARG, bits, "notify: bit 29 is the kernel's")
        s = dest & 0xFF
        if dest < 0 or s >= tcb.ntasks or tcb.state[s] == _EMPTY:
            return bad(h, _F_NOTASK, dest & 0xFFFFFFFF, "notify: no task %d" % dest)
        me = h.slot
        if not notify.granted(me, s):
            trace.write(_TR_DENIED, me, s, 0)
            return ret(h, _E_DENIED)
        if tcb.gen[s] != dest >> 8 or tcb.state[s] >= _FAULTED:
            return ret(h, _E_DEAD)
        trace.write(_TR_NOTIFY, me, s, bits)
        notify.post(s, bits)
        return ret(h, 0)

    def wait(h, mask, timeout_ms=None, *extra):  # abi.SYS_WAIT
        """Wait for any notification bit in `mask`; m.bits says which arrived."""
        if h._p or extra:
            r = gate(h, extra)
            if r is not None:
                return r
        if type(mask) is not int or mask <= 0 or mask > 0xFFFFFFFF or (timeout_ms is not None and (
                type(timeout_ms) is not int or timeout_ms < 0 or timeout_ms > _TMAX)):
            return bad(h, _F_BADARG, 0, "wait: mask (non-zero, 32-bit) and timeout_ms must be ints")
        me = h.slot
        h._stop = h._mstop
        m = h.m
        h._p = 1
        pend = tcb.notes[me] & mask
        if pend:
            tcb.notes[me] ^= pend
            m.bits = pend
            m.rc = 0
            trace.write(_TR_WAKE, me, 0, pend)
            return h
        tcb.state[me] = _IN_WAIT
        tcb.mask[me] = mask
        if timeout_ms is not None:
            timers.arm(me, timeout_ms)
        return h

    # -- time, the CPU, the trace, the task itself --

    def sleep_ms(h, ms, *extra):  # abi.SYS_SLEEP
        """Sleep for ms milliseconds (0: just yield)."""
        if h._p or extra:
            r = gate(h, extra)
            if r is not None:
                return r
        if type(ms) is not int or ms < 0 or ms > _TMAX:
            return bad(h, _F_BADARG, 0, "sleep_ms: ms must be an int >= 0")
        if ms:
            tcb.state[h.slot] = _SLEEPING
            timers.arm(h.slot, ms)
        return ret(h, 0)

    def yield_(h, *extra):  # abi.SYS_YIELD
        """Give up the CPU; the task stays runnable (round-robin)."""
        if h._p or extra:
            r = gate(h, extra)
            if r is not None:
                return r
        return ret(h, 0)

    def log(h, text, *extra):  # abi.SYS_LOG
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
        if tcb.echo:
            print("[%s] %s" % (tcb.name[h.slot], bytes(text[:n]).decode()))
        return ret(h, 0)

    def fault(h, reason=None, *extra):  # abi.SYS_FAULT
        """Fault the calling task on purpose (its own assertion failed)."""
        if h._p or extra:
            r = gate(h, extra)
            if r is not None:
                return r
        return bad(h, _F_SELF, 0, reason)

    def lookup(h, name):  # abi.SYS_LOOKUP
        """The current id of the task called `name`, or -1 (immediate; no
        allocation). Read-only: no owner check is needed, and a client may
        look its server up before its first syscall."""
        return tcb.lookup(name)

    def region(h, name):  # abi.SYS_REGION
        """The task's Region called `name` (immediate). A task without it gets
        a memory fault (keep/mem.py has the Region and its checks)."""
        regs = h.regions
        r = regs.get(name) if regs is not None else None
        if r is None:
            raise fault.violation(h.slot if tcb.cur == h.slot else tcb.cur, 0xFF, _ACC_READ, 0, 0,
                                  "no region named %r" % (name,))
        return r

    # -- supervisor calls (immediate; _priv is their check) --

    def sv_restart(h, slot):  # abi.SYS_SV_RESTART
        """Restart slot with a new generation; returns the new task id."""
        if not _priv(h, slot):
            return -1
        return svc.restart(slot)

    def sv_hold(h, slot):  # abi.SYS_SV_HOLD
        """Stop slot until released; its clients get E_DEAD."""
        if not _priv(h, slot):
            return -1
        svc.hold(slot)
        return 0

    def sv_release(h, slot):  # abi.SYS_SV_RELEASE
        """Start a held or faulted slot again (new generation); returns its id."""
        if not _priv(h, slot):
            return -1
        return svc.release(slot)

    def sv_inject(h, slot, kind=_F_INJECTED):  # abi.SYS_SV_INJECT
        """Fault slot on purpose (fault injection); returns 0."""
        if not _priv(h, slot):
            return -1
        fault.fault(slot, kind, 0, "injected")
        return 0

    def sv_status(h, slot):  # abi.SYS_SV_STATUS
        """(state, generation, restarts, effective priority, last FaultRecord or None)."""
        if not _priv(h, slot):
            return None
        return (tcb.state[slot], tcb.gen[slot], tcb.restarts[slot], tcb.prio[slot],
                fault.records.get(slot))

    def sv_task(h, slot):  # abi.SYS_SV_TASK
        """The task in slot as a TaskState (keep/svc.py): the kernel's one
        record, filled again by each call (valid until the next; nothing
        allocates, so the supervisor's quiet rounds may call it)."""
        if not _priv(h, slot):
            return None
        return svc.task_state(slot)
