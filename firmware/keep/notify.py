"""Notifications: 32-bit words of bits, posted without blocking.

The notify syscall (keep/task.py) ORs bits into the target's word through
post(); a task waiting (wait, or recv with a mask) wakes when a bit in its
mask is set, and takes — clears — exactly the bits it was woken by.
Interrupts post bits through keep.irq, which the scheduler folds in here;
the kernel posts NOTE_FAULT to the supervisor here too.

Capabilities: with a manifest loaded (caps.grants), notify is granted
like send. A task may notify itself, the tasks it may send to, the tasks
it is granted to notify (a grant with badge -1: notify only), and its own
clients (the tasks granted to send to it: a server signals its
subscribers this way): granted(). Anything else is E_DENIED and a
`denied` record.

Invariants:
- A task IN_WAIT or IN_RECV never has pending bits inside its mask: post()
  wakes it as soon as one arrives.
- Delivering bits clears them; bits outside the mask stay pending.
- Bits in abi.NOTE_KERNEL (NOTE_FAULT) are posted only by the kernel: a
  notify that sets one is a badarg fault of the caller.
"""

from micropython import const

from . import caps, tcb, trace
from .transition import wake

_TR_WAKE = const(6)  # abi.TR_WAKE
_IN_RECV = const(3)  # abi.ST_IN_RECV
_IN_WAIT = const(4)  # abi.ST_IN_WAIT


def post(s, bits):
    """Set bits on slot s and wake it if it waits for them."""
    notes = tcb.notes
    notes[s] |= bits
    st = tcb.state[s]
    if st == _IN_WAIT or st == _IN_RECV:
        pend = notes[s] & tcb.mask[s]
        if pend:
            notes[s] ^= pend
            tcb.handle[s].m._woken(0, pend, st == _IN_RECV)
            wake(s)
            trace.write(_TR_WAKE, s, 0, pend)


def granted(me, s):
    """May task me notify task s (see Capabilities above)?"""
    g = caps.grants
    return g is None or s == me or s in g[me] or (s < len(g) and g[s].get(me, -1) >= 0)
