"""ESP32-family boards: esptool, in-process, after checking the image.

The board file gives the esptool chip name, the image chip id, the flash
offset and baud. The port comes from --port or from the board's USB ids.

The image is read by esptool's own loader (esptool.bin_image.
LoadFirmwareImage, the one `esptool image-info` uses): header, extended
header with the chip id, segments, the XOR checksum byte and, when the
header says one is appended, the SHA-256. The loader reads both but
compares neither, so check_image() does; it also turns every way the
loader fails on a file that is not an image into one ImageError line.
The chip id must be the board's: another chip's image does not boot.
"""

import struct

from ..errors import KeepError
from .errors import ImageError

UF2_MAGIC0 = b"UF2\n"

# esptool v5 option spelling (click); the command is `write-flash`.
WRITE_CMD = "write-flash"


class EsptoolFlasher:
    kind = "esptool"

    def __init__(self, board):
        self.board = board
        self.f = board.flasher

    def check(self, path):
        from . import read_firmware

        data = read_firmware(path)
        img = check_for_chip(data, self.f.chip, self.f.image_chip_id, self.board.name)
        return (f"{path}: {chip_name(img.chip_id)} image, {len(img.segments)} segments, "
                f"{len(data)} bytes, for offset {self.f.offset:#x}")

    def argv(self, path, port, erase=False):
        """The esptool command line for this board (esptool.main(argv))."""
        argv = ["--chip", self.f.chip, "--port", port, "--baud", str(self.f.baud), WRITE_CMD]
        if erase:
            argv.append("--erase-all")
        return argv + [f"{self.f.offset:#x}", str(path)]

    def flash(self, path, port=None, erase=False, drive=None, progress=True):
        if drive:
            raise KeepError(f"--drive is for UF2 boards; {self.board.name} flashes over a "
                            "serial port (--port)")
        summary = self.check(path)
        port = port or find_port(self.board)
        print(summary)
        run_esptool(self.argv(path, port, erase), port)
        return f"flashed {path} to {self.board.name} on {port}"


def chip_name(chip_id):
    """esptool's name for an image chip id ('esp32s3'), or 'chip id N'."""
    from esptool.targets import CHIP_DEFS

    for name, cls in CHIP_DEFS.items():
        if getattr(cls, "IMAGE_CHIP_ID", None) == chip_id and name != "esp8266":
            return name
    return f"chip id {chip_id}"


def check_image(data, chip="esp32"):
    """esptool's reading of the first image in `data` (an ESP32-family
    image, esptool `chip` name), checksum and SHA-256 checked; ImageError
    (one line) for anything else."""
    from esptool.bin_image import LoadFirmwareImage
    from esptool.loader import ESPLoader
    from esptool.util import FatalError

    data = bytes(data)
    if data[:4] == UF2_MAGIC0:
        raise ImageError("this is a UF2 file (for boards with a UF2 drive), not an ESP image")
    if len(data) < 24:  # the common and extended headers
        raise ImageError(f"too short for an ESP image ({len(data)} bytes)")
    if data[0] != ESPLoader.ESP_IMAGE_MAGIC:
        raise ImageError(f"not an ESP firmware image (first byte {data[0]:#04x}, "
                         f"an image starts with {ESPLoader.ESP_IMAGE_MAGIC:#04x})")
    try:
        img = LoadFirmwareImage(chip, data)
    except FatalError as err:  # "End of file reading segment 0x3ffb0000, length 200 ..."
        raise ImageError(f"the image is truncated or corrupt (esptool: {err})")
    except RuntimeError as err:  # the extended header's last byte, 0 or 1
        raise ImageError(f"not an ESP32-family image (its hash-appended byte is "
                         f"{err.args[-1]:#04x}, esptool expects 0 or 1)")
    except (struct.error, TypeError):  # a header or the checksum byte past the end
        raise ImageError("the image is truncated (esptool read past its end)")
    if not img.segments:
        raise ImageError("the image header claims 0 segments")
    if img.checksum != img.calculate_checksum():
        raise ImageError(f"image checksum is {img.checksum:#04x}, its segments give "
                         f"{img.calculate_checksum():#04x}: the file is corrupt")
    if img.append_digest:
        if len(img.stored_digest) < 32:
            raise ImageError("image is truncated in its SHA-256")
        if img.stored_digest != img.calc_digest:
            raise ImageError("image SHA-256 does not match: the file is corrupt")
    return img


def check_for_chip(data, chip, chip_id, board_name):
    """check_image() plus: was it built for the board's chip (image chip id)?"""
    img = check_image(data, chip)
    if img.chip_id != chip_id:
        raise ImageError(f"the image is for {chip_name(img.chip_id)} (chip id {img.chip_id}), "
                         f"but {board_name} is {chip_name(chip_id)} (chip id {chip_id})")
    return img


def find_port(board):
    """The one serial port whose USB ids match the board, or a KeepError."""
    from serial.tools import list_ports

    ids = {(u.vid, u.pid) for u in board.usb if u.mode == "serial"}
    hits = [p.device for p in list_ports.comports() if (p.vid, p.pid) in ids]
    want = ", ".join(f"{v:04x}:{p:04x}" for v, p in sorted(ids))
    if not hits:
        raise KeepError(f"no --port given and no {board.name} found by USB id ({want}); "
                        "plug it in or pass --port")
    if len(hits) > 1:
        raise KeepError(f"several ports look like {board.name} ({', '.join(hits)}); "
                        "pick one with --port")
    return hits[0]


def run_esptool(argv, port):
    """esptool.main(argv), with its failures turned into one KeepError line."""
    import esptool
    import serial

    try:
        esptool.main(argv)
    except esptool.FatalError as err:
        raise KeepError(f"esptool: {err} (check {port}: is the board connected, "
                        "and held in download mode if it does not enter it itself?)")
    except serial.SerialException as err:
        raise KeepError(f"serial port {port}: {err} (check the name, permissions - "
                        "the dialout group on Linux - and that no monitor holds it)")
    except SystemExit as err:
        if err.code:
            raise KeepError(f"esptool stopped with status {err.code} (its message is above)")
