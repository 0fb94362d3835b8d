"""Trace drain: ring records out to the console as frames.

Called from the kernel's tick and idle hooks. Each frame is encoded into
one preallocated buffer (keep.wire) and written with a single write, so
console text printed by tasks can never land inside a frame.

Invariants:
- Records leave the ring (trace.release) only after their frame was
  written; sequence numbers increase by one per frame, mod 2**16.
- A drop count reported by the ring becomes a TR_DROPPED record as soon as
  there is room for it, so the host sees every loss.
"""

import micropython

from . import abi, trace, wire

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
def drain(max_frames=4):
    """Write up to max_frames frames of pending records; returns how many."""
    global seq, frames
    if sink is None:
        return 0
    st = trace.st
    done = 0
    while done < max_frames:
        n = st[trace.COUNT]
        if not n:
            break
        k = n if n < abi.FRAME_MAX_RECORDS else abi.FRAME_MAX_RECORDS
        ln = wire.encode(trace.ring, st[trace.HEAD], k, st[trace.CAP], seq, _out)
        sink.write(_out, ln)
        trace.release(k)
        seq = (seq + 1) & 0xFFFF
        frames += 1
        done += 1
        if st[trace.DROPPED] and st[trace.COUNT] < st[trace.CAP]:
            trace.write(abi.TR_DROPPED, abi.KERNEL_SLOT, 0, trace.take_dropped())
    return done
