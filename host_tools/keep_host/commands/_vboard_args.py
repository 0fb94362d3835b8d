"""The virtual-board options keep vboard and keep demo share: which board,
its heap, and (the emulated Pico) the firmware it runs."""

from ..vboard import VIRTUAL_BOARDS


def add_vboard(p, heap_note=""):
    p.add_argument("--board", default="unix", choices=sorted(VIRTUAL_BOARDS),
                   help="which virtual board: unix (the unix port, simulated peripherals) or "
                        "rpi_pico (the official firmware on an emulated RP2040, Node.js needed) "
                        "(default: %(default)s)")
    p.add_argument("--heap", default=None,
                   help="the firmware's MicroPython heap, e.g. 256K (default: the board file's "
                        "memory.heap_bytes; unix only)" + heap_note)
    p.add_argument("--firmware", metavar="UF2",
                   help="rpi_pico: run this UF2 instead of the vendored MicroPython, e.g. one "
                        "with an app frozen in (keep build --image, docs/freeze.md)")
