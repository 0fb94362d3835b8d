"""Message header codec: the 4-byte header every Keep message starts with.

The kernel writes it into the receiver's buffer (docs/kernel.md, recv):

    u8 version | u8 op | u16 body length, little endian | body (length bytes)

In a reply the op byte carries the server's rc as a signed byte (ipc.reply
writes `rc & 0xFF`). A reader takes the fields it knows from the front of
the body and skips the rest of `length`: that is how an old server keeps
working when a newer client appends fields (`fields()` below).

Invariants (tests/host/test_message_props.py):
- decode(encode(op, body, version)) gives back op, body and version.
- decode of any bytes either raises MessageError (one line) or returns a
  header whose length fits inside the bytes it was given.
"""

import struct

from . import abi
from .errors import KeepError

HDR = abi.MSG_HDR
_HDR = struct.Struct("<BBH")


class MessageError(KeepError):
    """Bytes that are not a well-formed Keep message."""


class Message:
    __slots__ = ("version", "op", "length", "body")

    def __init__(self, version, op, body):
        self.version = version
        self.op = op
        self.length = len(body)
        self.body = bytes(body)

    @property
    def rc(self):
        """The op byte of a reply, read as the server's signed rc."""
        return self.op - 256 if self.op > 127 else self.op

    def __repr__(self):
        return f"Message(version={self.version}, op={self.op}, length={self.length})"


def encode(op, body=b"", version=abi.MSG_VERSION, max_msg=None):
    """Header + body. Oversize is an error, never a truncation (kernel rule)."""
    if not 0 <= op <= abi.MAX_OP:
        raise MessageError(f"op {op} is outside 0..{abi.MAX_OP}")
    if not 0 <= version <= 255:
        raise MessageError(f"version {version} is outside 0..255")
    body = bytes(body)
    limit = 0xFFFF if max_msg is None else max_msg
    if len(body) > limit:
        raise MessageError(f"body of {len(body)} bytes exceeds the {limit}-byte message limit")
    return _HDR.pack(version, op, len(body)) + body


def encode_reply(rc, body=b"", version=abi.MSG_VERSION, max_msg=None):
    """A reply: rc (-128..127) in the op byte as a signed byte."""
    if not -128 <= rc <= 127:
        raise MessageError(f"rc {rc} is outside -128..127")
    return encode(rc & 0xFF, body, version, max_msg)


def decode(buf, max_msg=None):
    """Parse one message from the front of buf; bytes past `length` are ignored
    (a buffer is usually larger than the message in it)."""
    buf = bytes(buf)
    if len(buf) < HDR:
        raise MessageError(f"message of {len(buf)} bytes is shorter than its {HDR}-byte header")
    version, op, length = _HDR.unpack_from(buf)
    if version == 0:
        raise MessageError("message version 0 is not a Keep message (versions start at 1)")
    if max_msg is not None and length > max_msg:
        raise MessageError(f"message length {length} exceeds the {max_msg}-byte message limit")
    if HDR + length > len(buf):
        raise MessageError(f"message says {length} body bytes but only {len(buf) - HDR} follow the header")
    return Message(version, op, buf[HDR:HDR + length])


def fields(msg, layout):
    """Read the fields an (old) reader knows: struct `layout` from the front of
    the body, ignoring any fields a newer writer appended after them."""
    st = struct.Struct(layout)
    if msg.length < st.size:
        raise MessageError(f"op {msg.op}: body of {msg.length} bytes is shorter than the "
                           f"{st.size} bytes this reader needs")
    return st.unpack_from(msg.body)
