# Declared hot path (docs/performance.md, "Rules"): the whole module (the
# trace drain, run on the kernel tick). MicroPython speed and RAM tricks are
# allowed in it, each under one of those rules.
"""Trace drain: ring records out to the console as frames.

Called from the kernel's tick and idle hooks. Each frame is encoded into
one preallocated buffer (runtime.wire) and written with a single write, so
console text printed by tasks can never land inside a frame.

Invariants:
- Records leave the ring (trace.release) only after their frame was
  written; sequence numbers increase by one per frame, mod 2**16.
- A drop count reported by the ring becomes a TR_DROPPED record as soon as
  there is room for it, so the host sees every loss.
"""

import time

import micropython
from micropython import const

from keep import trace

from . import wire

_FRAME_MAX_RECORDS = const(32)  # abi.FRAME_MAX_RECORDS
_KERNEL_SLOT = const(255)  # abi.KERNEL_SLOT
_TR_DROPPED = const(13)  # abi.TR_DROPPED

# A frame carries up to FRAME_MAX_RECORDS records and ~10 bytes of framing.
# Full frames go out at once; a partial frame waits up to _FLUSH_MS for more
# records, so a lightly loaded board does not spend its link on headers -
# but only while the ring is under a quarter full: a small ring (the chaos
# app's 64 records) must keep room for a fault's burst (its text, the
# supervisor's log lines: ~30 records in one tick), or it drops records.
_FLUSH_MS = const(100)
_last = [0]  # ticks_ms of the last partial flush

_out = bytearray(wire.FRAME_BUF_LEN)
seq = 0
# has write(buf, n) (MicroPython streams take a max length, so no slice is
# built): sys.stdout.buffer on a board, a file or socket in tests
sink = None
frames = 0


def reset(out=None):
    global seq, sink, frames
    seq = 0
    frames = 0
    sink = out


@micropython.native  # a native frame lives on the C stack: no heap frame per call
def drain(max_frames=4, flush_ms=_FLUSH_MS):
    """Write up to max_frames frames of pending records; returns how many.

    A last, partial frame is written only when flush_ms have passed since
    the previous partial one (0: write everything now, e.g. at shutdown).
    """
    global seq, frames
    if sink is None:
        return 0
    st = trace.st
    done = 0
    while done < max_frames:
        n = st[trace.COUNT]
        if not n:
            break
        if n < _FRAME_MAX_RECORDS and n * 4 < st[trace.CAP]:
            now = time.ticks_ms()
            if flush_ms and time.ticks_diff(now, _last[0]) < flush_ms:
                break
            _last[0] = now
        k = n if n < _FRAME_MAX_RECORDS else _FRAME_MAX_RECORDS
        ln = wire.encode(trace.ring, st[trace.HEAD], k, st[trace.CAP], seq, _out)
        sink.write(_out, ln)
        trace.release(k)
        seq = (seq + 1) & 0xFFFF
        frames += 1
        done += 1
        if st[trace.DROPPED] and st[trace.COUNT] < st[trace.CAP]:
            trace.write(_TR_DROPPED, _KERNEL_SLOT, 0, trace.take_dropped())
    return done
