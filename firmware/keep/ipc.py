"""IPC: synchronous send / recv / reply with copied, versioned messages.

send blocks the client until the server replies, so a buffer it lent
cannot change under the server. The message is copied at send: straight
into the server's receive buffer (header + body) when the server waits in
recv, else into the sender's own reply buffer, from where recv copies it
later, so what the server gets is what the buffer held at send. A reply
is copied into the client's reply buffer. Oversize is an error, never a
truncation. Every such write is one call of the viper _copy (header and
body), and the buffers are reached through tcb.mbuf, not three attribute
lookups: a queued call (two tasks of one priority take turns, so a
client's send usually finds the server not yet back in recv) pays two
copies, about 2 % of a round trip (docs/performance.md).

Invariants (with tcb's):
- The wait-for graph (IN_SEND / IN_REPLY edges to peer) is acyclic: send
  refuses, with E_DEADLOCK, any edge that would close a cycle.
- A server's effective priority is the most important of its own and of
  every client queued at it or waiting for its reply, transitively along
  chains of servers (priority inheritance); it drops back when it replies.
- Every call has an id (m.call = ~tcb.call[c]), and a reply names the
  call it answers: it reaches the client only while that exact call waits
  for this server. A reply to a call that is over (the client
  timed out, faulted, restarted or has made a newer call) is dropped and
  traced, never delivered to a later call and never the server's fault.

Why the hot functions take trailing defaults such as `state=state`:
every module-global or builtin name is a hash-map lookup on each use,
while a positional default is bound once, at import, and read as a local
(keyword-only defaults would be looked up by name on every call). The
profile (callgrind, docs/performance.md) showed dictionary lookups were
the largest cost of a round trip. Callers never pass these: the first of
them, `end=_END`, catches a stray positional argument (a badarg fault,
task.gate) before it could replace a kernel table.

Why @micropython.native on send/recv/reply/deliver: a bytecode function
whose frame is larger than the VM's on-stack limit (11 words) gets its
frame from the heap on every call and frees it on return. Native code keeps
its frame on the C stack, so the round trip touches the heap not at all
(bench: ipc_alloc_bytes_per_roundtrip, by micropython.mem_total()).
"""

import micropython
from micropython import const

from . import caps, sched, task, tcb, timers, trace
from .sched import push
from .tcb import (alease, base, call, gen, handle, held, mbuf, notes, peer, prio, slease,
                  sq_head, sq_next, state, timed)
from .trace import write as tw

_E_DEAD = const(-1)  # abi.E_DEAD
_E_DEADLOCK = const(-2)  # abi.E_DEADLOCK
_E_DENIED = const(-5)  # abi.E_DENIED
_E_TOOBIG = const(-4)  # abi.E_TOOBIG
_F_BADARG = const(2)  # abi.F_BADARG
_F_BADREPLY = const(3)  # abi.F_BADREPLY
_F_NOTASK = const(4)  # abi.F_NOTASK
_RC_MIN = const(-10)  # abi.RC_MIN
_TR_DEADLOCK = const(8)  # abi.TR_DEADLOCK
_TR_DENIED = const(15)  # abi.TR_DENIED
_TR_REPLY = const(4)  # abi.TR_REPLY
_TR_WAKE = const(6)  # abi.TR_WAKE

_NONE = const(0xFF)
_IN_SEND = const(1)  # abi.ST_IN_SEND
_IN_REPLY = const(2)  # abi.ST_IN_REPLY
_IN_RECV = const(3)  # abi.ST_IN_RECV
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_FAULTED = const(6)  # abi.ST_FAULTED
_EMPTY = const(9)  # abi.ST_EMPTY
_MAX_TASKS = const(16)  # tcb.MAX_TASKS (checked by tests/host/test_abi_consistency.py)
_XMAX = const(0x3FFFFFFF)  # the largest ~call id: abi.CALL_MAX << 8 | 0xFF
_END = const(0x4B45)  # the stray-argument sentinel (any int no caller passes by chance)
_TMAX = const(0x1FFFFFFF)  # abi.TIMEOUT_MAX_MS; states >= this are not alive for IPC
_HDR = const(4)  # abi.MSG_HDR
_VER = const(1)  # abi.MSG_VERSION
BUFS = task.BUFS
ret = task.ret
bad = task.bad


def _offer(h, lease):
    """mem.offer, bound on first use: keep.mem (regions and leases) loads
    only in apps that declare a region (a real lease means it has). The
    first call rebinds this global, so later sends neither import (a
    relative import allocates) nor pay an extra call."""
    global _offer
    from . import mem

    _offer = mem.offer
    return _offer(h, lease)


@micropython.viper
def _copy(dst, off: int, op: int, src, start: int, n: int):
    """Write a message at dst[off]: the header (version, op (a reply's rc),
    u16 length n) and n body bytes from src[start:], front to back (so a
    copy to a lower offset of the same buffer is safe). One viper call
    instead of four subscript stores and a slice, which native code would
    build on the heap."""
    d = ptr8(dst)
    d[off] = _VER
    d[off + 1] = op
    d[off + 2] = n & 0xFF
    d[off + 3] = n >> 8
    if n > 0:
        s = ptr8(src)
        i = 0
        off += _HDR
        while i < n:
            d[off + i] = s[start + i]
            i += 1


@micropython.native
def send(h, dest, op, data=None, lease=None, timeout_ms=None, end=_END, state=state, peer=peer,
         gen=gen, held=held, call=call, handle=handle, mbuf=mbuf, timed=timed, prio=prio,
         push=push, tw=tw, _copy=_copy, len=len, isinstance=isinstance):
    """Call server `dest` with `op` and `data`; wait for its reply."""
    if h._p or end != _END:
        r = task.gate(h, end != _END)
        if r is not None:
            return r
    if h._hstop is None:  # the task's first send: the StopIteration that returns the handle
        h._hstop = StopIteration(h)
    me = h.slot
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
    if lease is not None and not _offer(h, lease):  # not this task's lease: it faulted
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
        deliver(handle[s]._mstop.value, s, me, op, data, 0, n, lease, badge, False)
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
        _copy(b, len(b) >> 1, op, data, 0, n)
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
    h._stop = h._hstop
    h._p = 1
    return h


def _rc(h, rc):
    """send's immediate failure: the handle carries rc, no reply."""
    h.rc = rc
    h.rlen = 0
    h._stop = h._hstop
    h._p = 1
    return h


@micropython.native
def deliver(m, s, c, op, src, start, n, lease, badge, traced=True, mbuf=mbuf, gen=gen,
            call=call, _copy=_copy, tw=tw):
    """Copy client c's message (n bytes of src at start) into the receive
    buffer of server s (whose Msg is m), and say who sent it and which
    call it is."""
    b = mbuf[s]
    _copy(b, 0, op, src, start, n)
    m.sender = gen[c] << 8 | c
    m.call = ~call[c]
    m.badge = badge
    m.op = op
    m.len = n
    if m.bits:  # (task.Msg: both are class defaults until a wait sets them)
        m.bits = 0
    if m.rc:
        m.rc = 0
    if lease is not None or m.lease is not None:
        m.lease = lease
    if lease is not None:
        alease[c] = lease
        lease.grant(s)
    if traced:  # else the SEND record said it (TR_DELIVERED)
        tw(3, s, c | op << 8, n)  # abi.TR_RECV


@micropython.native
def recv(h, timeout_ms=None, mask=0, end=_END, state=state, sq_head=sq_head, recvs=tcb.recvs,
         deliver=deliver):
    """Wait for a message, or for notification bits in `mask`."""
    if h._p or end != _END:
        r = task.gate(h, end != _END)
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
    h._stop = s = h._mstop
    m = s.value  # task.Handle.m, without the property call
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
def reply(h, client, rc=0, data=None, end=_END, state=state, peer=peer, held=held, call=call,
          timed=timed, handle=handle, mbuf=mbuf, alease=alease, prio=prio, base=base,
          push=push, tw=tw, _copy=_copy, len=len, isinstance=isinstance,
          ok=task.RCSTOP[-_RC_MIN]):
    """Answer the call `client` (m.call of the message) with rc and data.
    Never blocks."""
    if h._p or end != _END:
        r = task.gate(h, end != _END)
        if r is not None:
            return r
    me = h.slot
    try:
        x = ~client  # the call's number << 8 | the client's slot
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
            _copy(b, len(b) >> 1, rc & 0xFF, data, 0, n)
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
        return bad(h, _F_BADREPLY, client & 0xFFFFFFFF, "reply to %d: not m.call" % client)
    # The call is over: the client timed out, faulted or restarted while
    # this task held it, or has made a newer call since. Drop, and say so.
    tw(4, me, c | (rc & 0xFF) << 8, n | 0x10000)  # abi.TR_REPLY, dropped
    h._stop = ok
    h._p = 1
    return h


def end_lease(c):
    """The call that lent client c's lease is over: the server loses access."""
    lease = alease[c]
    alease[c] = None
    lease.end()


# ---- priority inheritance ---------------------------------------------------


def _set_prio(s, p):
    """Change s's effective priority, moving it between ready queues."""
    if tcb.state[s] == _RUNNABLE and s != tcb.cur and sched.remove(s):
        tcb.prio[s] = p
        sched.push(s)
    else:
        tcb.prio[s] = p


def boost(s, p):
    """Raise server s (and the servers it waits on) to at least priority p."""
    st = tcb.state
    while sched.more_important(p, tcb.prio[s]):
        _set_prio(s, p)
        if st[s] != _IN_SEND and st[s] != _IN_REPLY:
            return
        s = tcb.peer[s]


def reprioritise(s):
    """Recompute s's inherited priority from its clients, down the chain."""
    st = tcb.state
    prio = tcb.prio
    peer = tcb.peer
    while True:
        p = tcb.base[s]
        for t in range(tcb.ntasks):
            ts = st[t]
            if (ts == _IN_SEND or ts == _IN_REPLY) and peer[t] == s and \
                    sched.more_important(prio[t], p):
                p = prio[t]
        if p == prio[s]:
            return
        _set_prio(s, p)
        if st[s] != _IN_SEND and st[s] != _IN_REPLY:
            return
        s = peer[s]


def release_clients(s, rc):
    """Wake every task queued at or waiting on server s with error rc, and
    forget the calls s holds (s has stopped)."""
    st = tcb.state
    for t in range(tcb.ntasks):
        ts = st[t]
        if held[t] == s:  # s stops: it holds no call any more
            held[t] = _NONE
        if (ts == _IN_SEND or ts == _IN_REPLY) and tcb.peer[t] == s:
            tcb.slease[t] = None
            tcb.sq_next[t] = _NONE
            if alease[t] is not None:
                end_lease(t)
            hc = tcb.handle[t]
            hc.rc = rc
            hc.rlen = 0
            tcb.timed[t] = 0
            st[t] = _RUNNABLE
            sched.push(t)
            trace.write(_TR_REPLY, s, t | (rc & 0xFF) << 8, 0)
    tcb.sq_head[s] = _NONE
