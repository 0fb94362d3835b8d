# Declared hot path (docs/performance.md, "Rules"): the whole module (the
# ready queues). MicroPython speed and RAM tricks are allowed in it, each
# under one of those rules.
"""Scheduler: fixed priorities, round-robin within a priority.

One FIFO per priority level, linked through tcb.nxt (intrusive, so pushing
and popping allocate nothing), and a bitmask of non-empty levels so the
most important runnable task is its lowest set bit.

Invariants:
- A slot is linked in ready queue prio[s] iff state[s] == RUNNABLE and it
  is not the task currently running.
- Bit p of `ready[0]` is set iff queue p is non-empty.
- All priority comparisons go through more_important(); lower numbers are
  more important.
"""

import micropython
from micropython import const

from . import tcb

NPRIO = const(8)
_NONE = const(0xFF)

head = bytearray(b"\xff" * NPRIO)
tail = bytearray(b"\xff" * NPRIO)
ready = bytearray(1)  # bit p set when queue p holds a task
_nxt = tcb.nxt
_prio = tcb.prio


def more_important(a, b):
    """True when priority a outranks priority b (lower number wins)."""
    return a < b


def reset():
    for p in range(NPRIO):
        head[p] = _NONE
        tail[p] = _NONE
    ready[0] = 0


# push and pop run on every slice: viper, on the preallocated arrays.
@micropython.viper
def push(s: int):
    """Append slot s to the tail of its effective priority's queue."""
    nx = ptr8(_nxt)
    tl = ptr8(tail)
    p = int(ptr8(_prio)[s])
    nx[s] = 0xFF
    t = tl[p]
    if t == 0xFF:
        ptr8(head)[p] = s
    else:
        nx[t] = s
    tl[p] = s
    r = ptr8(ready)
    r[0] = r[0] | (1 << p)


@micropython.viper
def pop() -> int:
    """Remove and return the most important runnable slot, or 0xFF."""
    r = ptr8(ready)
    m = r[0]
    if m == 0:
        return 0xFF
    p = 0  # the lowest set bit: at most 7 viper shifts (a 256-byte table cost 288 B of heap)
    while not (m >> p) & 1:
        p += 1
    hd = ptr8(head)
    s = hd[p]
    n = ptr8(_nxt)[s]
    hd[p] = n
    if n == 0xFF:
        ptr8(tail)[p] = 0xFF
        r[0] = m & (0xFF ^ (1 << p))
    return s


def remove(s):
    """Unlink slot s from its ready queue if it is there (rare path)."""
    nxt = tcb.nxt
    p = tcb.prio[s]
    prev = _NONE
    cur = head[p]
    while cur != _NONE:
        if cur == s:
            n = nxt[s]
            if prev == _NONE:
                head[p] = n
            else:
                nxt[prev] = n
            if tail[p] == s:
                tail[p] = prev
            if head[p] == _NONE:
                ready[0] &= ~(1 << p)
            nxt[s] = _NONE
            return True
        prev = cur
        cur = nxt[cur]
    return False

