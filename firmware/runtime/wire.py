# Declared hot path (docs/performance.md, "Rules"): the frame encoder,
# _encode() and what the drain calls per frame. MicroPython speed and RAM
# tricks are allowed there, each under one of those rules; the rest of this
# module is plain code.
"""Trace frames for the console: ring records in, one self-checking frame out.

The kernel drains its trace ring to the console through encode(). A frame
is FRAME_START then the 6-bit encoded body (docs/trace-format.md):

    u8 version | u16 seq | u16 L | L bytes of records | u16 CRC-16/CCITT-FALSE

little endian, each record cut to TR_WIRE_LEN[kind] bytes. Every encoded
byte is 0x80..0xBF (a UTF-8 continuation byte), so a frame can never be
read as console text and the host resyncs at the next FRAME_START.

Invariants:
- encode() allocates nothing: it works in the caller's preallocated buffer
  (tests/firmware/wire_heaplock.py runs it under heap_lock).
- The body is first laid out raw at the end of `out` and then expanded in
  place from the front: group g is read (3 bytes at G+1+3g) before bytes
  1+4g..4+4g are written, and 4+4g < G+1+3g+3 for every g < G, so the
  expansion never overwrites bytes it has not read. Hence the buffer needs
  exactly 1 + 4G bytes, G = ceil((7 + L) / 3) - no scratch space.
- The host's keep_host.trace.frame.encode_frame() is this function's twin;
  tests/host/test_wire_crosscheck.py checks they agree byte for byte.
"""

import micropython
from micropython import const

# Private copies of the abi.py numbers (checked by tests/host/test_abi_consistency.py):
# consts are folded at compile time, so the board never loads keep.abi itself.
_MAX_RECORDS = const(32)  # abi.FRAME_MAX_RECORDS
_START = const(30)  # abi.FRAME_START
_VERSION = const(1)  # abi.FRAME_VERSION
_TR_SIZE = const(8)  # abi.TR_SIZE
_WIRE_LEN = const(b'\x08\x06\x06\x04\x06\x08\x08\x04\x04\x08\x06\x04\x08\x08\x08\x04\x08\x08\x08\x08\x08\x04\x08\x04')  # abi.TR_WIRE_LEN


def frame_size_max(records=_MAX_RECORDS):
    """Bytes a frame of `records` records can take at most (FRAME_START included)."""
    return 1 + 4 * ((7 + records * _TR_SIZE + 2) // 3)


# Size of the buffer the kernel preallocates once for encode().
FRAME_BUF_LEN = frame_size_max()


@micropython.viper
def _encode(ring, first: int, count: int, cap: int, seq: int, out, wl) -> int:
    r = ptr8(ring)
    o = ptr8(out)
    w = ptr8(wl)
    nk = int(len(wl))
    # Pass 1: records length L on the wire (kinds the table lacks keep 8 bytes).
    rlen = 0
    i = 0
    idx = first
    while i < count:
        if idx >= cap:
            idx -= cap
        k = r[idx << 3]
        rlen += int(w[k]) if k < nk else 8
        idx += 1
        i += 1
    groups = (rlen + 9) // 3
    # Pass 2: raw body at out[groups + 1 ...], CRC as we go.
    p = groups + 1
    o[p] = _VERSION
    o[p + 1] = seq & 0xFF
    o[p + 2] = (seq >> 8) & 0xFF
    o[p + 3] = rlen & 0xFF
    o[p + 4] = (rlen >> 8) & 0xFF
    end = p + 5
    i = 0
    idx = first
    while i < count:
        if idx >= cap:
            idx -= cap
        s = idx << 3
        k = r[s]
        n = int(w[k]) if k < nk else 8
        j = 0
        while j < n:
            o[end + j] = r[s + j]
            j += 1
        end += n
        idx += 1
        i += 1
    crc = 0xFFFF
    q = p
    while q < end:
        x = ((crc >> 8) ^ o[q]) & 0xFF
        x ^= x >> 4
        crc = ((crc << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
        q += 1
    o[end] = crc & 0xFF
    o[end + 1] = crc >> 8
    end += 2
    while end < p + 3 * groups:
        o[end] = 0
        end += 1
    # Pass 3: expand 3 -> 4 in place, front to back (see the invariant above).
    g = 0
    d = 1
    s = p
    while g < groups:
        v = o[s] | (o[s + 1] << 8) | (o[s + 2] << 16)
        o[d] = 0x80 | (v & 0x3F)
        o[d + 1] = 0x80 | ((v >> 6) & 0x3F)
        o[d + 2] = 0x80 | ((v >> 12) & 0x3F)
        o[d + 3] = 0x80 | ((v >> 18) & 0x3F)
        s += 3
        d += 4
        g += 1
    o[0] = _START
    return d


@micropython.native  # a native frame lives on the C stack: no heap frame per call
def encode(ring, first, count, capacity, seq, out):
    """Write one frame of `count` ring records into `out`; return its length.

    ring: bytearray of `capacity` 8-byte records; records are read from index
    `first` on, wrapping at `capacity`. seq: the frame's sequence number
    (kept mod 2**16). out: a preallocated bytearray of at least
    frame_size_max(count) bytes (FRAME_BUF_LEN covers FRAME_MAX_RECORDS).
    Allocates nothing unless the arguments are wrong (then ValueError).
    """
    if count < 0 or count > _MAX_RECORDS or first < 0 or first >= capacity \
            or len(out) < frame_size_max(count) or len(ring) < capacity * _TR_SIZE:
        raise ValueError("wire.encode: bad arguments")
    return _encode(ring, first, count, capacity, seq, out, _WIRE_LEN)
