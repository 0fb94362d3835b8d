"""Property tests for the message header codec (keep_host.message)."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keep_host import abi, message
from keep_host.message import MessageError

SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(st.integers(0, 255), st.integers(1, 255), st.binary(max_size=600))
def test_any_op_version_body_round_trips(op, version, body):
    raw = message.encode(op, body, version)
    assert raw[:4] == bytes([version, op]) + struct.pack("<H", len(body))
    m = message.decode(raw)
    assert (m.version, m.op, m.length, m.body) == (version, op, len(body), body)


@SETTINGS
@given(st.integers(-128, 127), st.binary(max_size=64))
def test_reply_rc_round_trips_as_the_kernel_writes_it(rc, body):
    raw = message.encode_reply(rc, body)
    assert raw[1] == rc & 0xFF  # what the reply syscall writes
    assert message.decode(raw).rc == rc


@SETTINGS
@given(st.binary(max_size=80), st.one_of(st.none(), st.integers(0, 64)))
def test_any_bytes_decode_cleanly_or_fit(buf, max_msg):
    try:
        m = message.decode(buf, max_msg)
    except MessageError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert message.HDR + m.length <= len(buf)
    assert m.body == buf[message.HDR:message.HDR + m.length]
    assert max_msg is None or m.length <= max_msg


@SETTINGS
@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF),
       st.binary(max_size=40), st.binary(max_size=20))
def test_old_reader_skips_fields_a_newer_writer_appended(op, a, b, extra, trailing):
    # v1 of a protocol: u16 a, u32 b. A v2 writer appends `extra`; the
    # buffer also holds stale bytes past the message (`trailing`).
    raw = message.encode(op, struct.pack("<HI", a, b) + extra) + trailing
    m = message.decode(raw)
    assert message.fields(m, "<HI") == (a, b)
    assert m.length == 6 + len(extra)


@SETTINGS
@given(st.binary(max_size=5))
def test_old_reader_of_a_short_body_gets_a_clean_error(body):
    m = message.decode(message.encode(1, body))
    with pytest.raises(MessageError):
        message.fields(m, "<HI")


def test_out_of_range_and_oversize_are_errors_not_truncations():
    for bad in (lambda: message.encode(256), lambda: message.encode(-1),
                lambda: message.encode(1, b"x" * 65, max_msg=64),
                lambda: message.encode_reply(128)):
        with pytest.raises(MessageError):
            bad()
    assert message.decode(message.encode(1, b"x" * 64, max_msg=64), max_msg=64).length == 64
    assert abi.MSG_HDR == 4 and abi.MSG_VERSION == 1


def test_a_kernel_written_buffer_decodes():
    # The layout the kernel writes in ipc.deliver: version, op, n & 0xFF, n >> 8.
    n = 300
    buf = bytes([abi.MSG_VERSION, 7, n & 0xFF, n >> 8]) + bytes(range(256)) + bytes(44) + b"junk"
    m = message.decode(buf)
    assert (m.op, m.length) == (7, 300)
