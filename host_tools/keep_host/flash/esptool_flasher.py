"""ESP32-family boards: esptool, in-process, after checking the image.

The board file gives the esptool chip name, the image chip id, the flash
offset and baud. The port comes from --port or from the board's USB ids.
"""

from ..errors import KeepError
from . import esp_image

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
        img = esp_image.check_for_chip(data, self.f.image_chip_id, self.board.name)
        return (f"{path}: {esp_image.chip_name(img.chip_id)} image, {img.segments} segments, "
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
