"""Virtual boards: a board's console and rig with no hardware. See docs/vboard.md.

- `unix`: the MicroPython unix port behind a console that acts like a
  board's serial port (socket:// or a pty), peripherals simulated by hal/sim.
- `rpi_pico`: the official rp2 firmware on an emulated RP2040 (rp2040js),
  the test rig's wiring emulated around the chip (vboard/pico.py).

    with VirtualBoard(flash_dir) as vb:  # heap: boards/unix.toml unless heap="..."
        vb.url            # socket://127.0.0.1:PORT (or /dev/pts/N with pty=True)
        vb.sim_ctl_port   # port for the simulated-peripheral control channel
        vb.wait_output(">>> ")
        vb.reset(safe=True)
"""

from .board import VirtualBoard, free_port
from .tap import BoardTimeout
from .faults import LinkFaults, parse_spec
from .pico import EmulatedPico
from .subproc import VBoardProcess

# Board name -> the class that runs it. Adding an emulated board is a
# runner (emu/<chip>/) plus an entry here and its board file.
VIRTUAL_BOARDS = {"unix": VirtualBoard, "rpi_pico": EmulatedPico}


def open_virtual(board="unix", flash_dir=None, **kw):
    """A virtual board of kind `board` (not started); KeepError if there is none."""
    from ..errors import KeepError

    cls = VIRTUAL_BOARDS.get(board)
    if cls is None:
        raise KeepError(f"no virtual board {board!r}: there are " + ", ".join(sorted(VIRTUAL_BOARDS)))
    if cls is EmulatedPico:
        kw = {k: v for k, v in kw.items() if k in ("listen", "heap", "on_event", "firmware")}
    elif kw.pop("firmware", None) is not None:
        raise KeepError(f"--firmware is for the emulated rpi_pico; the {board} virtual board "
                        "runs the unix port")
    return cls(flash_dir, board=board, **kw)


__all__ = ["VirtualBoard", "EmulatedPico", "BoardTimeout", "LinkFaults", "parse_spec",
           "VBoardProcess", "free_port", "VIRTUAL_BOARDS", "open_virtual"]
