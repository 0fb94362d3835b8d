"""Timers: one deadline per task, for sleeps and syscall timeouts.

A task waits for at most one thing, so one deadline slot per task is
enough (tcb.deadline / tcb.timed). `soonest` caches the earliest armed
deadline so the scheduler checks the clock against a single number;
cancelling just clears `timed` and leaves `soonest` early, which costs at
most one spurious scan. When nothing is runnable the loop asks
until_next(), which looks at the armed timers themselves: idling (and
run(until_idle=True) deciding it is done) never waits for a cancelled one.

Invariants:
- timed[s] == 1 only while s is blocked (SLEEPING, IN_SEND, IN_REPLY,
  IN_RECV, IN_WAIT) with a timeout.
- If any timed[s] == 1 then armed is True and soonest is at or before
  deadline[s].
- Nothing on the syscall or timeout path imports (a relative import in a
  function allocates).
"""

import time

from micropython import const

from . import tcb, trace
from .transition import end_lease, reprioritise, unlink_sender, wake

_E_TIMEOUT = const(-3)  # abi.E_TIMEOUT
_TR_TIMEOUT = const(7)  # abi.TR_TIMEOUT

_IN_SEND = const(1)  # abi.ST_IN_SEND
_IN_REPLY = const(2)  # abi.ST_IN_REPLY
_IN_RECV = const(3)  # abi.ST_IN_RECV
_IN_WAIT = const(4)  # abi.ST_IN_WAIT
_SLEEPING = const(5)  # abi.ST_SLEEPING

armed = False
soonest = 0
# armed, as a byte the scheduler loop can test without a dictionary lookup
flag = bytearray(1)

ticks_ms = time.ticks_ms
ticks_add = time.ticks_add
ticks_diff = time.ticks_diff


def reset():
    global armed, soonest
    armed = False
    flag[0] = 0
    soonest = 0


def arm(s, timeout_ms):
    """Give blocked task s a deadline timeout_ms from now."""
    global armed, soonest
    d = ticks_add(ticks_ms(), timeout_ms)
    tcb.deadline[s] = d
    tcb.timed[s] = 1
    if not armed or ticks_diff(d, soonest) < 0:
        soonest = d
        armed = True
        flag[0] = 1


def due(now):
    """True when the earliest deadline has passed."""
    return armed and ticks_diff(now, soonest) >= 0


def until_next(now):
    """ms until the next deadline (0 if due), or -1 when none is armed.

    Called when nothing is runnable, so it can afford to look at the armed
    timers instead of trusting `soonest`: a cancelled timeout (a reply
    came, a notification woke the waiter) leaves soonest early, and the
    idle wait, or run(until_idle=True), would otherwise wait for it.
    """
    global armed, soonest
    if not armed:
        return -1
    armed = False
    flag[0] = 0
    timed = tcb.timed
    for s in range(tcb.ntasks):
        if timed[s]:
            d = tcb.deadline[s]
            if not armed or ticks_diff(d, soonest) < 0:
                soonest = d
                armed = True
                flag[0] = 1
    if not armed:
        return -1
    d = ticks_diff(soonest, now)
    return d if d > 0 else 0


def expire(now):
    """Time out every task whose deadline has passed; recompute soonest.

    The timeout itself is inline (one function object less in RAM): a
    sleeper just becomes runnable; a task blocked in send or waiting for a
    reply gets E_TIMEOUT and leaves the server's queue (which may lower
    the server's inherited priority); recv / wait return E_TIMEOUT in m.
    """
    global armed, soonest
    armed = False
    flag[0] = 0
    for s in range(tcb.ntasks):
        if not tcb.timed[s]:
            continue
        d = tcb.deadline[s]
        if ticks_diff(now, d) < 0:
            if not armed or ticks_diff(d, soonest) < 0:
                soonest = d
                armed = True
                flag[0] = 1
            continue
        tcb.timed[s] = 0
        st = tcb.state[s]
        if st == _SLEEPING:
            wake(s)
            continue
        trace.write(_TR_TIMEOUT, s, st, 0)
        h = tcb.handle[s]
        if st == _IN_SEND or st == _IN_REPLY:
            srv = tcb.peer[s]
            if st == _IN_SEND:
                unlink_sender(s)
            if tcb.alease[s] is not None:
                end_lease(s)
            h.rc = _E_TIMEOUT
            h.rlen = 0
            wake(s)
            reprioritise(srv)
        elif st == _IN_RECV or st == _IN_WAIT:
            h.m._woken(_E_TIMEOUT, 0, st == _IN_RECV)
            wake(s)

