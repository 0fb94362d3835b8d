"""keep flash: put MicroPython onto a board (esptool for ESP32, UF2 drive for RP2040)."""

from .. import portlock
from ..boards import load_board
from ..flash import flasher_for
from ._port_args import add_port, port

HELP = "flash MicroPython firmware onto a board (checks the file first)"


def add_arguments(p):
    p.add_argument("--board", required=True, help="board name, e.g. esp32_devkitc, rpi_pico")
    p.add_argument("--firmware", "-f", required=True, metavar="FILE",
                   help="firmware file: .bin for ESP32, .uf2 for RP2040")
    add_port(p, baud=False)  # esptool's speed is the board file's flasher.baud
    p.add_argument("--erase", action="store_true", help="erase the whole flash first (ESP32)")
    p.add_argument("--drive", metavar="DIR",
                   help="the mounted UF2 drive (RP2040; default: found by its label)")
    p.add_argument("--check-only", action="store_true",
                   help="only validate the firmware file against the board")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args):
    board = load_board(args.board)
    flasher = flasher_for(board)
    if args.check_only:
        print(flasher.check(args.firmware))
        return 0
    if board.flasher.kind != "esptool":  # a UF2 board is flashed through its drive
        print(flasher.flash(args.firmware, erase=args.erase, drive=args.drive,
                            progress=not args.no_progress))
        return 0
    flasher.check(args.firmware)  # a wrong file is refused before a board is looked for
    with portlock.held(port(args, board=board.name)):
        print(flasher.flash(args.firmware, port=args.port, erase=args.erase,
                            progress=not args.no_progress))
    return 0
