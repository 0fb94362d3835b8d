"""ESP firmware image validation, before any byte goes to a chip.

An ESP32-family image (what esptool's `write-flash` writes at the
bootloader offset; MicroPython's ESP32 .bin starts with one) is:

    common header, 8 bytes:   u8 magic 0xE9 | u8 segment count | u8 flash mode
                              | u8 flash size/freq | u32 entry address
    extended header, 16 bytes: u8 wp pin | u8[3] drive strengths | u16 chip id
                              | u8 min rev | u16 min rev full | u16 max rev full
                              | u8[4] reserved | u8 hash appended (0 or 1)
    segments:                 u32 load address | u32 length | data, repeated
    checksum:                 padded so it is the last byte of a 16-byte line;
                              0xEF XOR every segment data byte
    SHA-256 of all the above, if hash appended

All little endian. The chip id says which chip the image was built for
(ESP32 = 0, ESP32-S3 = 9, ...). Flashing another chip's image bricks the
boot until reflashed, so a mismatch is refused here, not by the ROM.
"""

import hashlib
import struct
from dataclasses import dataclass

from ..errors import KeepError

ESP_MAGIC = 0xE9
HEADER = struct.Struct("<BBBBI")
EXT_HEADER = struct.Struct("<BBBBHBHH4sB")
SEGMENT = struct.Struct("<II")
CHECKSUM_SEED = 0xEF
MAX_SEGMENTS = 16
UF2_MAGIC0 = b"UF2\n"


class ImageError(KeepError):
    """A firmware file that does not fit the board; str() is the reason."""


@dataclass(frozen=True)
class EspImage:
    chip_id: int
    segments: int
    entry: int
    hash_appended: bool
    image_bytes: int  # length of the first image (the file may hold more after it)


def chip_name(chip_id):
    """esptool's name for an image chip id ('esp32s3'), or 'chip id N'."""
    try:
        from esptool.targets import CHIP_DEFS
    except ImportError:  # pragma: no cover - esptool is a pinned dependency
        return f"chip id {chip_id}"
    for name, cls in CHIP_DEFS.items():
        if getattr(cls, "IMAGE_CHIP_ID", None) == chip_id and name != "esp8266":
            return name
    return f"chip id {chip_id}"


def parse_esp_image(data):
    """Check the first image in `data`; EspImage or ImageError (one line)."""
    if data[:4] == UF2_MAGIC0:
        raise ImageError("this is a UF2 file (for boards with a UF2 drive), not an ESP image")
    if len(data) < HEADER.size + EXT_HEADER.size:
        raise ImageError(f"too short for an ESP image ({len(data)} bytes)")
    magic, nseg, _mode, _sizefreq, entry = HEADER.unpack_from(data, 0)
    if magic != ESP_MAGIC:
        raise ImageError(f"not an ESP firmware image (first byte {magic:#04x}, "
                         f"an image starts with {ESP_MAGIC:#04x})")
    ext = EXT_HEADER.unpack_from(data, HEADER.size)
    chip_id, hash_flag = ext[4], ext[9]
    if hash_flag not in (0, 1):
        raise ImageError(f"not an ESP32-family image (hash-appended byte is {hash_flag:#04x})")
    if not 1 <= nseg <= MAX_SEGMENTS:
        raise ImageError(f"image header claims {nseg} segments (1..{MAX_SEGMENTS} possible)")
    pos = HEADER.size + EXT_HEADER.size
    checksum = CHECKSUM_SEED
    for i in range(nseg):
        if pos + SEGMENT.size > len(data):
            raise ImageError(f"image is truncated in the header of segment {i}")
        _addr, size = SEGMENT.unpack_from(data, pos)
        pos += SEGMENT.size
        if pos + size > len(data):
            raise ImageError(f"image is truncated: segment {i} needs {size} bytes, "
                             f"{len(data) - pos} remain")
        for b in data[pos:pos + size]:
            checksum ^= b
        pos += size
    pos += 15 - pos % 16  # the checksum is the last byte of a 16-byte line
    if pos >= len(data):
        raise ImageError("image is truncated before its checksum")
    if data[pos] != checksum:
        raise ImageError(f"image checksum is {data[pos]:#04x}, its segments give "
                         f"{checksum:#04x}: the file is corrupt")
    end = pos + 1
    if hash_flag:
        digest = data[end:end + 32]
        if len(digest) < 32:
            raise ImageError("image is truncated in its SHA-256")
        if hashlib.sha256(data[:end]).digest() != digest:
            raise ImageError("image SHA-256 does not match: the file is corrupt")
        end += 32
    return EspImage(chip_id, nseg, entry, bool(hash_flag), end)


def check_for_chip(data, chip_id, board_name):
    """parse_esp_image() plus: was it built for the board's chip?"""
    img = parse_esp_image(data)
    if img.chip_id != chip_id:
        raise ImageError(f"the image is for {chip_name(img.chip_id)} (chip id {img.chip_id}), "
                         f"but {board_name} is {chip_name(chip_id)} (chip id {chip_id})")
    return img
