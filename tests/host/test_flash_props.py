"""Property tests: the firmware validators never crash, and accept what they should."""

import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from test_flash import GOOD, RP2040, make_uf2

from keep_host.flash import ImageError, esptool_flasher, uf2


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([None, RP2040, 0xBFDD4EEE]))
def test_uf2_validator_any_bytes(data, family):
    try:
        info = uf2.validate(data, family)
    except ImageError as e:
        assert "\n" not in str(e)
    else:
        assert info.blocks * 512 == len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=4000), st.integers(0, 0x3F))
def test_valid_uf2_files_are_accepted(payload, page_base):
    data = make_uf2(payload, base=0x10000000 + page_base * 256)
    info = uf2.validate(data, RP2040)
    assert info.blocks == (len(payload) + 255) // 256
    assert info.payload_bytes == info.blocks * 256


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=2000), st.data())
def test_uf2_single_corruption_never_crashes(payload, draw):
    data = bytearray(make_uf2(payload))
    i = draw.draw(st.integers(0, len(data) - 1))
    data[i] ^= draw.draw(st.integers(1, 255))
    try:
        uf2.validate(bytes(data), RP2040)
    except ImageError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=600),
                 st.binary(max_size=600).map(lambda b: b"\xe9" + b),
                 st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)).map(
                     lambda p: GOOD[:p[0]] + bytes([p[1]]) + GOOD[p[0] + 1:])))
def test_esp_image_check_any_bytes(data):
    # esptool's loader under check_image(): one ImageError line, never another exception
    try:
        img = esptool_flasher.check_image(data)
    except ImageError as e:
        assert "\n" not in str(e)
    else:
        assert not img.append_digest or img.data_length + 32 <= len(data)
        assert struct.unpack_from("<H", data, 12)[0] == img.chip_id
