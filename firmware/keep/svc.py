"""Supervisor calls: kernel operations reserved to the supervisor task.

The supervisor (task slot 0 by convention, named with set_supervisor) is
an ordinary task that decides restart / hold / reboot; these calls are
the mechanism it uses. They act at once and do not yield (they never
block), unlike the IPC syscalls. Any other task calling one is faulted:
the privilege is the caller's slot, checked by the kernel.

Invariants:
- Only the supervisor slot, on its own handle, gets past _priv(); a call
  on another task's handle faults the running task (F_MISUSE), one from a
  task that is not the supervisor faults it (F_BADARG); either returns -1
  and the caller stops at its next await.
- restart() always produces a new generation, so ids taken before it are
  stale (E_DEAD) afterwards.
"""

from micropython import const

from . import fault, kernel, task, tcb

_F_BADARG = const(2)  # abi.F_BADARG
_F_INJECTED = const(9)  # abi.F_INJECTED
_F_MISUSE = const(5)  # abi.F_MISUSE
_NONE = const(0xFF)


def set_supervisor(slot):
    """Name the task that receives NOTE_FAULT and may use these calls."""
    fault.supervisor = slot


def _priv(h, slot):
    cur = tcb.cur
    if h.slot != cur:  # another task's handle (task.gate does the same for syscalls)
        if cur == _NONE:
            raise RuntimeError("syscall outside a task")  # (task.gate's text: one string)
        tcb.handle[cur]._p = 1
        fault.fault(cur, _F_MISUSE, h.slot, "syscall on task %d's handle" % h.slot)
        return False
    if h.slot != fault.supervisor:
        fault.fault(h.slot, _F_BADARG, 0, "supervisor call from a task that is not the supervisor")
        h._p = 1
        return False
    if type(slot) is not int or not 0 <= slot < tcb.ntasks:
        fault.fault(h.slot, _F_BADARG, 0, "supervisor call: no slot %r" % (slot,))
        h._p = 1
        return False
    return True


def sv_restart(h, slot):
    """Restart slot with a new generation; returns the new task id."""
    if not _priv(h, slot):
        return -1
    return kernel.restart(slot)


def sv_hold(h, slot):
    """Stop slot until released; its clients get E_DEAD."""
    if not _priv(h, slot):
        return -1
    kernel.hold(slot)
    return 0


def sv_release(h, slot):
    """Start a held or faulted slot again (new generation); returns its id."""
    if not _priv(h, slot):
        return -1
    return kernel.release(slot)


def sv_inject(h, slot, kind=_F_INJECTED):
    """Fault slot on purpose (fault injection); returns 0."""
    if not _priv(h, slot):
        return -1
    fault.fault(slot, kind, 0, "injected")
    return 0


def sv_status(h, slot):
    """(state, generation, restarts, effective priority, last FaultRecord or None)."""
    if not _priv(h, slot):
        return None
    return (tcb.state[slot], tcb.gen[slot], tcb.restarts[slot], tcb.prio[slot],
            fault.records.get(slot))


for _f in (sv_restart, sv_hold, sv_release, sv_inject, sv_status):
    setattr(task.Handle, _f.__name__, _f)
