"""The virtual board: the MicroPython unix port behind a console that acts
like a board's serial port (socket:// or a pty). See docs/vboard.md.

    with VirtualBoard(flash_dir) as vb:  # heap: boards/unix.toml unless heap="..."
        vb.url            # socket://127.0.0.1:PORT (or /dev/pts/N with pty=True)
        vb.sim_ctl_port   # port for the simulated-peripheral control channel
        vb.wait_output(">>> ")
        vb.reset(safe=True)
"""

from .board import BoardTimeout, VirtualBoard, free_port
from .faults import LinkFaults, parse_spec
from .subproc import VBoardProcess

__all__ = ["VirtualBoard", "BoardTimeout", "LinkFaults", "parse_spec", "VBoardProcess",
           "free_port"]
