"""Per-chip flashers in a registry: put MicroPython itself onto a board.

    flasher = flasher_for(load_board("rpi_pico"))
    flasher.check(Path("fw.uf2"))                  # validate only, no hardware
    flasher.flash(Path("fw.uf2"), drive=None)      # validate, then write

FLASHERS maps a board file's `[flasher] kind` to a class with
`check(path) -> str` (what the file is, or ImageError) and
`flash(path, port=None, erase=False, drive=None, progress=True) -> str`
(the last line to show). Adding a chip family is a module here plus one
entry in FLASHERS (esptool's targets/ + dict, on a smaller scale).

Invariant: nothing talks to hardware before check() has accepted the file.
"""

from pathlib import Path

from ..errors import KeepError
from .errors import ImageError  # noqa: F401  (public)
from .esptool_flasher import EsptoolFlasher
from .uf2_flasher import Uf2Flasher

FLASHERS = {
    "esptool": EsptoolFlasher,
    "uf2": Uf2Flasher,
}


def flasher_for(board):
    kind = board.flasher.kind
    if kind == "none":
        raise KeepError(f"{board.name} has nothing to flash: it is the virtual board "
                        "(start it with `keep vboard`)")
    try:
        return FLASHERS[kind](board)
    except KeyError:
        raise KeepError(f"{board.name}: no flasher for kind \"{kind}\" "
                        f"(known: {', '.join(FLASHERS)})")


def read_firmware(path):
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise KeepError(f"{p}: no such firmware file")
    except OSError as err:
        raise KeepError(f"{p}: cannot read ({err.strerror})")
