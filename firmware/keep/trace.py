# Declared hot path (docs/performance.md, "Rules"): write() and write_chars(),
# the ring. MicroPython speed and RAM tricks are allowed there, each under one
# of those rules; the rest of this module is plain code.
"""Trace ring: fixed-size, preallocated, written without allocating.

Records are 8 bytes (abi.TR_SIZE): u8 kind | u8 slot | u16 a | u32 b,
little endian; abi.py says what a and b mean for each kind. The ring is
written by viper code straight into a bytearray, so a write costs a few
native stores and never touches the heap (tests prove it under heap_lock).

Invariants:
- st[HEAD] is the index of the oldest record, st[COUNT] how many are held
  (0..capacity). Writers never overwrite: when the ring is full a record is
  dropped and st[DROPPED] counts it, so the host sees an explicit loss
  instead of a silently rewritten history.
- Records leave the ring only through release(), after the drain has
  copied them out.
"""

import gc
from array import array

import micropython
from micropython import const

_TR_SIZE = const(8)  # abi.TR_SIZE


HEAD = const(0)
COUNT = const(1)
DROPPED = const(2)
CAP = const(3)

ring = bytearray(_TR_SIZE * 64)
st = array("I", [0, 0, 0, 64])


def init(capacity):
    """Size the ring for `capacity` records (boot time only).

    The old ring is reused when it is the right size, and released before
    a new one is allocated, so rebooting the kernel never needs two rings.
    """
    global ring, st
    if len(ring) != _TR_SIZE * capacity:
        ring = None
        gc.collect()
        ring = bytearray(_TR_SIZE * capacity)
    st[HEAD] = 0
    st[COUNT] = 0
    st[DROPPED] = 0
    st[CAP] = capacity


@micropython.viper
def write(kind: int, slot: int, a: int, b: int):
    """Append one record; count it as dropped if the ring is full."""
    s = ptr32(st)
    n = s[1]
    cap = s[3]
    if n >= cap:
        s[2] = s[2] + 1
        return
    i = s[0] + n
    if i >= cap:
        i -= cap
    p = ptr8(ring)
    o = i << 3
    p[o] = kind
    p[o + 1] = slot
    p[o + 2] = a
    p[o + 3] = a >> 8
    p[o + 4] = b
    p[o + 5] = b >> 8
    p[o + 6] = b >> 16
    p[o + 7] = b >> 24
    s[1] = n + 1


def write_text(slot, text, n):
    """A LOG record then ceil(n/7) TEXT records carrying text's bytes."""
    write_chars(11, slot, text, n)  # abi.TR_LOG


@micropython.viper
def write_chars(kind: int, slot: int, text, n: int):
    """A `kind` record (LOG or NAME) then ceil(n/7) TEXT records carrying
    text's bytes.

    `text` is a str or bytes-like; all or nothing: if the ring can't hold
    the whole line, the line counts as dropped records.
    """
    s = ptr32(st)
    cap = s[3]
    need = 1 + (n + 6) // 7
    if s[1] + need > cap:
        s[2] = s[2] + need
        return
    src = ptr8(text)
    p = ptr8(ring)
    k = 0
    j = -1  # -1: the LOG header record
    while j < n:
        i = s[0] + s[1]
        if i >= cap:
            i -= cap
        o = i << 3
        if j < 0:
            p[o] = kind
            p[o + 1] = slot
            p[o + 2] = n
            p[o + 3] = n >> 8
            p[o + 4] = 0
            p[o + 5] = 0
            p[o + 6] = 0
            p[o + 7] = 0
            j = 0
        else:
            p[o] = 12  # abi.TR_TEXT
            k = 1
            while k < 8:
                if j < n:
                    p[o + k] = src[j]
                else:
                    p[o + k] = 0
                j += 1
                k += 1
        s[1] = s[1] + 1


def pending():
    """How many records wait to be drained."""
    return st[COUNT]


def take_dropped():
    """Return and clear the dropped-record count (the drain reports it)."""
    d = st[DROPPED]
    st[DROPPED] = 0
    return d


def release(n):
    """Forget the n oldest records (after the drain copied them out)."""
    cap = st[CAP]
    h = st[HEAD] + n
    if h >= cap:
        h -= cap
    st[HEAD] = h
    st[COUNT] -= n


def clear():
    st[HEAD] = 0
    st[COUNT] = 0
    st[DROPPED] = 0


def records():
    """Decode the held records as (kind, slot, a, b) tuples (tests; allocates)."""
    out = []
    cap = st[CAP]
    for k in range(st[COUNT]):
        o = ((st[HEAD] + k) % cap) * 8
        r = ring
        out.append((r[o], r[o + 1], r[o + 2] | r[o + 3] << 8,
                    r[o + 4] | r[o + 5] << 8 | r[o + 6] << 16 | r[o + 7] << 24))
    return out
