"""Task-state transitions: the state changes every part of the kernel shares.

The bottom layer above the task records (tcb) and the ready queues (sched):
waking a task, taking it off a sender queue or out of every wait, moving
its inherited priority, waking the clients of a stopped server, ending a
lease, retiring a coroutine. Syscalls (keep/task.py), timeouts
(keep/timers.py), faults (keep/fault.py) and the supervisor's mechanism
(keep/svc.py) all call these, and this module imports none of them:
imports in the kernel point one way, down (docs/kernel.md, "Modules").

Invariants (with tcb's):
- wake(s) is the one way a blocked task becomes RUNNABLE: its timeout is
  disarmed and it is queued at its effective priority.
- After detach(s), s is on no ready or sender queue, holds no lease and
  has no armed timeout; its state is left for the caller to set.
- A server's effective priority is the most important of its base and of
  every task IN_SEND or IN_REPLY with it as peer, transitively along a
  chain of servers (boost raises, reprioritise recomputes).
- release_clients(s, rc) leaves no task waiting on s and no call held by s.
"""

from micropython import const

from . import sched, tcb, trace

_NONE = const(0xFF)
_FRESH = const(3)  # keep/task.py _FRESH: the _p of a task that is not running
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_IN_SEND = const(1)  # abi.ST_IN_SEND
_IN_REPLY = const(2)  # abi.ST_IN_REPLY
_TR_REPLY = const(4)  # abi.TR_REPLY


def wake(s):
    """Make blocked task s runnable (its timeout, if any, no longer counts)."""
    tcb.timed[s] = 0
    tcb.state[s] = _RUNNABLE
    sched.push(s)


def unlink_sender(s):
    """Take an IN_SEND task off its server's sender queue."""
    srv = tcb.peer[s]
    nxt = tcb.sq_next
    prev = _NONE
    cur = tcb.sq_head[srv]
    while cur != _NONE:
        if cur == s:
            if prev == _NONE:
                tcb.sq_head[srv] = nxt[s]
            else:
                nxt[prev] = nxt[s]
            break
        prev = cur
        cur = nxt[cur]
    nxt[s] = _NONE
    tcb.slease[s] = None


def end_lease(c):
    """The call that lent client c's lease is over: the server loses access."""
    lease = tcb.alease[c]
    tcb.alease[c] = None
    lease.end()


def detach(s):
    """Take slot s off every queue and out of every wait it is part of.

    Returns the server it was blocked on (NONE if none) so the caller can
    recompute that server's inherited priority once s's state is final.
    """
    st = tcb.state[s]
    srv = _NONE
    if st == _RUNNABLE:
        sched.remove(s)
    elif st == _IN_SEND:
        srv = tcb.peer[s]
        unlink_sender(s)
    elif st == _IN_REPLY:
        srv = tcb.peer[s]
    if tcb.alease[s] is not None:
        end_lease(s)
    tcb.timed[s] = 0
    return srv


# ---- priority inheritance ---------------------------------------------------


def set_prio(s, p):
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
        set_prio(s, p)
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
        set_prio(s, p)
        if st[s] != _IN_SEND and st[s] != _IN_REPLY:
            return
        s = peer[s]


def release_clients(s, rc):
    """Wake every task queued at or waiting on server s with error rc, and
    forget the calls s holds (s has stopped)."""
    st = tcb.state
    held = tcb.held
    for t in range(tcb.ntasks):
        ts = st[t]
        if held[t] == s:  # s stops: it holds no call any more
            held[t] = _NONE
        if (ts == _IN_SEND or ts == _IN_REPLY) and tcb.peer[t] == s:
            tcb.slease[t] = None
            tcb.sq_next[t] = _NONE
            if tcb.alease[t] is not None:
                end_lease(t)
            hc = tcb.handle[t]
            hc.rc = rc
            hc.rlen = 0
            wake(t)
            trace.write(_TR_REPLY, s, t | (rc & 0xFF) << 8, 0)
    tcb.sq_head[s] = _NONE


def retire(s):
    """Close a stopped task's coroutine (deferred if it is running now: the
    loop closes it when the slice ends)."""
    if s == tcb.cur:
        return
    tcb.handle[s]._p = _FRESH  # a syscall on its handle now faults the caller
    close(s)


def close(s):
    """Drop slot s's coroutine, closing it (its finally blocks run)."""
    c = tcb.coro[s]
    tcb.coro[s] = None
    if c is not None:
        try:
            c.close()
        except Exception:
            pass
