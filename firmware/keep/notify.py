"""Notifications: 32-bit words of bits, posted without blocking.

notify ORs bits into the target's word; a task waiting (wait, or recv with
a mask) wakes when a bit in its mask is set, and takes — clears — exactly
the bits it was woken by. Interrupts post bits through keep.irq, which
the scheduler folds in here.

Capabilities: with a manifest loaded (caps.grants), notify is granted
like send. A task may notify itself, the tasks it may send to, the tasks
it is granted to notify (a grant with badge -1: notify only), and its own
clients (the tasks granted to send to it: a server signals its
subscribers this way). Anything else is E_DENIED and a `denied` record.

Invariants:
- A task IN_WAIT or IN_RECV never has pending bits inside its mask: post()
  wakes it as soon as one arrives.
- Delivering bits clears them; bits outside the mask stay pending.
- Bits in abi.NOTE_KERNEL (NOTE_FAULT) are posted only by the kernel: a
  notify that sets one is a badarg fault of the caller.
"""

from micropython import const

from . import caps, sched, task, tcb, timers, trace

_E_DEAD = const(-1)  # abi.E_DEAD
_E_DENIED = const(-5)  # abi.E_DENIED
_F_BADARG = const(2)  # abi.F_BADARG
_F_NOTASK = const(4)  # abi.F_NOTASK
_NOTE_KERNEL = const(536870912)  # abi.NOTE_KERNEL
_ST_EMPTY = const(9)  # abi.ST_EMPTY
_TIMEOUT_MAX_MS = const(536870911)  # abi.TIMEOUT_MAX_MS
_TR_DENIED = const(15)  # abi.TR_DENIED
_TR_NOTIFY = const(5)  # abi.TR_NOTIFY
_TR_WAKE = const(6)  # abi.TR_WAKE

_IN_RECV = const(3)  # abi.ST_IN_RECV
_IN_WAIT = const(4)  # abi.ST_IN_WAIT
_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_FAULTED = const(6)  # abi.ST_FAULTED


def post(s, bits):
    """Kernel-internal notify: set bits on slot s and wake it if it waits for them."""
    notes = tcb.notes
    notes[s] |= bits
    st = tcb.state[s]
    if st == _IN_WAIT or st == _IN_RECV:
        pend = notes[s] & tcb.mask[s]
        if pend:
            notes[s] ^= pend
            m = tcb.handle[s]._mstop.value  # task.Handle.m, without the property call
            m.bits = pend
            m.rc = 0
            if st == _IN_RECV:
                m.sender = -1
                if m.call != -1:  # (a class default until a message sets it)
                    m.call = -1
                m.op = -1
                m.len = 0
            tcb.timed[s] = 0
            tcb.state[s] = _RUNNABLE
            sched.push(s)
            trace.write(_TR_WAKE, s, 0, pend)


def notify(h, dest, bits, *extra):
    """Set notification `bits` on task `dest`. Never blocks."""
    if h._p or extra:
        r = task.gate(h, extra)
        if r is not None:
            return r
    if type(dest) is not int or type(bits) is not int or bits < 0 or bits > 0xFFFFFFFF:
        return task.bad(h, _F_BADARG, 0, "notify: dest and bits (32-bit) must be ints")
    if bits & _NOTE_KERNEL:
        return task.bad(h, _F_BADARG, bits, "notify: bit 29 is the kernel's")
    s = dest & 0xFF
    if dest < 0 or s >= tcb.ntasks or tcb.state[s] == _ST_EMPTY:
        return task.bad(h, _F_NOTASK, dest & 0xFFFFFFFF, "notify: no task %d" % dest)
    me = h.slot
    g = caps.grants
    if g is not None and s != me and s not in g[me] and \
            (s >= len(g) or g[s].get(me, -1) < 0):  # not granted (see above)
        trace.write(_TR_DENIED, me, s, 0)
        return task.ret(h, _E_DENIED)
    if tcb.gen[s] != dest >> 8 or tcb.state[s] >= _FAULTED:
        return task.ret(h, _E_DEAD)
    trace.write(_TR_NOTIFY, me, s, bits)
    post(s, bits)
    return task.ret(h, 0)


def wait(h, mask, timeout_ms=None, *extra):
    """Wait for any notification bit in `mask`; m.bits says which arrived."""
    if h._p or extra:
        r = task.gate(h, extra)
        if r is not None:
            return r
    if type(mask) is not int or mask <= 0 or mask > 0xFFFFFFFF or \
            (timeout_ms is not None and (type(timeout_ms) is not int or timeout_ms < 0
                                         or timeout_ms > _TIMEOUT_MAX_MS)):
        return task.bad(h, _F_BADARG, 0, "wait: mask (non-zero, 32-bit) and timeout_ms must be ints")
    me = h.slot
    h._stop = st = h._mstop
    m = st.value  # task.Handle.m, without the property call
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
