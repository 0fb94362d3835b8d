"""keep build: freeze an app into a firmware image (bytecode in flash).

Writes a MicroPython manifest.py listing exactly the files keep deploy
would put on the board; with --image, builds the Pico firmware with it
(emu/rp2040/build_firmware.py: the pinned MicroPython, the ARM toolchain).
docs/freeze.md."""

from pathlib import Path

from .. import freeze
from ._wiring_arg import add_wiring

HELP = "freeze an app into a firmware image: write its MicroPython manifest.py (and build the UF2)"


def add_arguments(p):
    p.add_argument("app", metavar="APP",
                   help="app name (firmware/apps/NAME), app directory or path to app.toml")
    p.add_argument("--board", help="board to build for (default: the manifest's; a real board)")
    add_wiring(p)
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="where manifest.py and app_table.py go (default build/frozen/APP-BOARD)")
    p.add_argument("--image", action="store_true",
                   help="also build the firmware with the app frozen in (rpi_pico: "
                        "emu/rp2040/build_firmware.py; needs cmake and arm-none-eabi-gcc, "
                        "a few minutes)")
    p.add_argument("--sources", metavar="DIR", type=Path,
                   help="with --image: git repos of MicroPython and its submodules already "
                        "fetched (default: clone them from github.com)")


def main(args):
    manifest, board = freeze.write_manifest(args.app, board=args.board, out=args.out,
                                            wiring=args.wiring)
    print(f"wrote {manifest} (freeze it with the port's FROZEN_MANIFEST=...)")
    if args.image:
        uf2 = freeze.build_image(manifest, board=board, sources=args.sources)
        print(f"built {uf2}: flash it with `keep flash --firmware {uf2}` "
              f"(or `keep vboard --board {board} --firmware {uf2}`)")
    return 0
