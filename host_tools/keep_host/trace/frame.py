"""Trace frames: the pure-Python codec (the board's twin is firmware/runtime/wire.py).

A frame on the console is FRAME_START followed by the body in 6-bit
encoding (see docs/trace-format.md):

    body = u8 version | u16 seq | u16 L | L bytes of records | u16 CRC

all little endian, CRC-16/CCITT-FALSE over the bytes before it. The body is
zero-padded to a multiple of 3, every 3 bytes (a 24-bit little-endian group)
become 4 bytes `0x80 | six bits`, low bits first.

Invariants: every encoded byte is in 0x80..0xBF; the encoded length is
`4 * ceil((7 + L) / 3)`, so the first 8 encoded bytes fix the frame's length.
"""

import binascii
import struct

from .. import abi

HEADER_LEN = 5  # version, seq, records length
CRC_LEN = 2
MAX_RECORDS_LEN = abi.FRAME_MAX_RECORDS * abi.TR_SIZE
WIRE_LEN = abi.TR_WIRE_LEN
_REC = struct.Struct("<BBHI")


class FrameError(ValueError):
    """A frame that fails its checks; str() says which ("crc", "length", ...)."""


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout."""
    return binascii.crc_hqx(data, crc)


def encoded_len(records_len):
    """Encoded body length (without FRAME_START) for L bytes of records."""
    return 4 * ((HEADER_LEN + records_len + CRC_LEN + 2) // 3)


def max_frame_len(records=abi.FRAME_MAX_RECORDS):
    """Worst-case frame size on the wire, FRAME_START included."""
    return 1 + encoded_len(records * abi.TR_SIZE)


def pack6(body):
    """Raw bytes -> 6-bit encoding (zero-padded to a multiple of 3)."""
    body = bytes(body)
    body += b"\0" * (-len(body) % 3)
    n = len(body) // 3
    wide = bytearray(4 * n)
    wide[0::4] = body[0::3]
    wide[1::4] = body[1::3]
    wide[2::4] = body[2::3]
    out = struct.pack(f"<{n}I", *[
        0x80808080 | (x & 0x3F) | (x << 2 & 0x3F00) | (x << 4 & 0x3F0000) | (x << 6 & 0x3F000000)
        for x in struct.unpack(f"<{n}I", wide)])
    return out


def unpack6(enc):
    """6-bit encoding -> raw bytes (len(enc) must be a multiple of 4).

    Bits 6 and 7 of each byte are ignored; the caller checks the range.
    """
    n = len(enc) // 4
    vals = struct.unpack(f"<{n}I", enc[:4 * n])
    wide = bytearray(struct.pack(f"<{n}I", *[
        (x & 0x3F) | (x >> 2 & 0xFC0) | (x >> 4 & 0x3F000) | (x >> 6 & 0xFC0000) for x in vals]))
    del wide[3::4]
    return bytes(wide)


def record(kind, slot, a=0, b=0):
    """One 8-byte ring record."""
    return _REC.pack(kind, slot, a & 0xFFFF, b & 0xFFFFFFFF)


def switch_record(slot, t_us, gen=0):
    """A SWITCH record as the kernel writes it (time split across a and b)."""
    return record(abi.TR_SWITCH, slot, t_us & 0xFFFF, (t_us >> 16) | (gen & 0xFFFF) << 16)


def log_records(slot, text, kind=abi.TR_LOG):
    """A LOG (or NAME) record and its TEXT records carrying `text` (str or bytes)."""
    data = text.encode() if isinstance(text, str) else bytes(text)
    recs = [record(kind, slot, len(data), 0)]
    for i in range(0, len(data), 7):
        recs.append(bytes([abi.TR_TEXT]) + data[i:i + 7].ljust(7, b"\0"))
    return recs


def wire_len(kind):
    """Bytes a record of `kind` keeps on the wire (8 for kinds the ABI lacks)."""
    return WIRE_LEN[kind] if kind < len(WIRE_LEN) else 8


def encode_frame(records, seq):
    """Whole frame (FRAME_START included) for 8-byte `records` and `seq`."""
    recs = b"".join(bytes(r[:wire_len(r[0])]) for r in records)
    body = struct.pack("<BHH", abi.FRAME_VERSION, seq & 0xFFFF, len(recs)) + recs
    body += struct.pack("<H", crc16(body))
    return bytes([abi.FRAME_START]) + pack6(body)


def header_records_len(enc):
    """From the first 8 encoded bytes: the records length L. Raises FrameError."""
    head = unpack6(enc[:8])
    if head[0] != abi.FRAME_VERSION:
        raise FrameError("version")
    rlen = head[3] | head[4] << 8
    if rlen > MAX_RECORDS_LEN:
        raise FrameError("length")
    return rlen


def decode_body(enc):
    """Encoded body (no FRAME_START, exact length) -> (seq, records bytes).

    Raises FrameError("version" | "length" | "crc") for a damaged frame.
    """
    if len(enc) < 8:
        raise FrameError("length")
    rlen = header_records_len(enc)
    if len(enc) != encoded_len(rlen):
        raise FrameError("length")
    body = unpack6(enc)
    end = HEADER_LEN + rlen
    if crc16(body[:end]) != body[end] | body[end + 1] << 8 or any(body[end + 2:]):
        raise FrameError("crc")
    return body[1] | body[2] << 8, body[HEADER_LEN:end]


def iter_records(recs):
    """Walk wire records: yields (kind, slot, a, b, offset). Raises FrameError("kind").

    A truncated record's missing bytes read as zero. Kind 0 is padding and is
    skipped; a kind the ABI does not know makes the frame unreadable.
    """
    p = 0
    n = len(recs)
    kmax = abi.TR_KIND_MAX
    while p < n:
        kind = recs[p]
        if kind > kmax:
            raise FrameError("kind")
        w = WIRE_LEN[kind]
        if p + w > n:
            raise FrameError("length")
        if kind:
            slot = recs[p + 1]
            a = recs[p + 2] | recs[p + 3] << 8 if w >= 4 else 0
            b = int.from_bytes(recs[p + 4:p + w], "little") if w > 4 else 0
            yield kind, slot, a, b, p
        p += w
