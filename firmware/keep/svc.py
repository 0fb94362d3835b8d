"""Supervision mechanism: start, restart, hold and release a task.

The supervisor (task slot 0 by convention, named with set_supervisor) is
an ordinary task that decides restart / hold / reboot (policy in a task);
this module is the mechanism it uses, through the sv_* syscalls
(keep/task.py), and the host's console uses, between slices
(runtime/inject.py, runtime/conreq.py, as kernel.restart / hold /
release).

Invariants:
- restart() always produces a new generation, so ids taken before it are
  stale (E_DEAD) afterwards; a task's pending notifications and sender
  queue do not survive it.
- hold() and a fault leave no client waiting on the stopped task (they get
  E_DEAD) and no call held by it.
- start() is the only place a coroutine is made: from the slot's entry,
  with its handle fresh (not running, no syscall outstanding).
"""

from micropython import const

from . import fault, sched, tcb, trace
from .transition import detach, release_clients, reprioritise, retire

_E_DEAD = const(-1)  # abi.E_DEAD
_F_INJECTED = const(9)  # abi.F_INJECTED
_GEN_MAX = const(4194303)  # abi.GEN_MAX
_ST_EMPTY = const(9)  # abi.ST_EMPTY
_TR_HOLD = const(21)  # abi.TR_HOLD
_TR_RESTART = const(10)  # abi.TR_RESTART
_FRESH = const(3)  # keep/task.py _FRESH: the _p of a task that is not running
_NONE = const(0xFF)
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_FAULTED = const(6)  # abi.ST_FAULTED
_HELD = const(7)  # abi.ST_HELD
_DONE = const(8)  # abi.ST_DONE


class TaskState:
    """One task as the supervisor sees it (the sv_task syscall)."""

    def __init__(self):
        self.ntasks = 0  # slots 0..ntasks-1 are in use (the same for every slot)
        self.name = None  # the task's name (str)
        self.state = _ST_EMPTY  # abi.ST_*
        self.gen = 0  # generation: bumped by each restart
        self.restarts = 0
        self.queued = False  # clients wait IN_SEND at it (a server not receiving)
        self.recvs = 0  # recv calls, mod 2**16: a server that keeps calling recv is alive
        self.fault = None  # its last FaultRecord, or None


# sv_task's one record: made at its first call, filled again by each.
_task_state = None


def task_state(s):
    """Slot s as a TaskState: the one record, refilled (no allocation)."""
    global _task_state
    r = _task_state
    if r is None:
        r = _task_state = TaskState()
    r.ntasks = tcb.ntasks
    r.name = tcb.name[s]
    r.state = tcb.state[s]
    r.gen = tcb.gen[s]
    r.restarts = tcb.restarts[s]
    r.queued = tcb.sq_head[s] != _NONE
    r.recvs = tcb.recvs[s]
    r.fault = fault.records.get(s)
    return r


def set_supervisor(slot):
    """Name the task that receives NOTE_FAULT and may use the sv_* calls."""
    fault.supervisor = slot


def tid(s):
    """The current task id of slot s."""
    return tcb.gen[s] << 8 | s


def start(s):
    """Make slot s's coroutine from its entry and queue it (spawn, restart)."""
    fn = tcb.entry[s]
    args = tcb.args[s]
    h = tcb.handle[s]
    h._p = _FRESH  # not running (task.py: only the running task's handle is 0)
    h.rc = 0
    h.rlen = 0
    tcb.coro[s] = fn(h, **args) if isinstance(args, dict) else fn(h, *args)
    tcb.state[s] = _RUNNABLE
    tcb.peer[s] = _NONE
    tcb.prio[s] = tcb.base[s]
    sched.push(s)


def restart(s):
    """Start slot s again from its entry with a new generation; its new id."""
    st = tcb.state[s]
    if st != _FAULTED and st != _DONE and st != _HELD:
        fault.fault(s, _F_INJECTED, 0, "restart")
    retire(s)
    g = tcb.gen[s] + 1
    tcb.gen[s] = g if g <= _GEN_MAX else 0
    tcb.restarts[s] += 1
    tcb.notes[s] = 0
    tcb.sq_head[s] = _NONE
    start(s)
    trace.write(_TR_RESTART, s, tcb.gen[s] & 0xFFFF, tcb.restarts[s])
    return tid(s)


def hold(s):
    """Stop slot s on purpose; clients waiting on it get E_DEAD."""
    st = tcb.state[s]
    if st == _HELD or st == _DONE or st == _ST_EMPTY:
        return
    srv = detach(s) if s != tcb.cur else _NONE
    tcb.state[s] = _HELD
    if srv != _NONE:
        reprioritise(srv)
    release_clients(s, _E_DEAD)
    retire(s)
    trace.write(_TR_HOLD, s, 1, 0)


def release(s):
    """Let a held (or faulted) task run again, as a fresh instance; its id."""
    st = tcb.state[s]
    if st == _HELD or st == _FAULTED or st == _DONE:
        trace.write(_TR_HOLD, s, 0, 0)
        return restart(s)
    return tid(s)
