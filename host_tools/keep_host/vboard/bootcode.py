"""The code the virtual board runs first in each MicroPython process.

A board's firmware, after a reset: mounts its flash at /, runs boot.py,
runs main.py (unless the reset came from the raw REPL, or safe boot was
asked for), then starts the REPL sharing main.py's globals. The unix port
has no such sequence, so the host passes this program with `-i -c`: `-c`
runs it, `-i` then starts the REPL with the same globals.

Invariants:
- The READY marker is printed after the flash is mounted, right before
  boot.py: host input (a Ctrl-C too) is held until then, so it can never
  land in the half-done mount.
- SystemExit from boot.py/main.py (sys.exit, machine.soft_reset) becomes a
  RESET marker; the host then restarts the process (with `-i` the unix port
  would otherwise carry on into the REPL).
- The program adds no name to the REPL's globals and no qstr a board's
  boot would not have: both halves (board_run.py: boot.py, main.py; it
  first runs board_setup.py: mount, sys.path, ROMFS) are exec'd from their
  text in a dict of their own, use only names the firmware already
  interns, and get their settings as long literals, which the compiler
  does not intern.
"""

from pathlib import Path

from . import markers

# board_run.py gets `data`, its only name, in a dict of its own; it execs
# board_setup.py (read before the mount hides the host's files) the same way.
_TEMPLATE = ("exec(open({run!r}).read(), {{'data': (globals(), {run_main!r}, {note!r}, "
             "{ready!r}, {reset!r}, {setup!r}, ({flash!r}, {root!r}, {romfs}, {image!r}))}})\n")


ROMFS_IMAGE = "romfs.img"  # the ROMFS partition's contents, in the flash directory
# The first half of the boot (flash, sys.path, ROMFS), read from this file
# and exec'd: its bytecode is garbage once it has run. Inline in the -c
# program it would stay on the heap for as long as main.py runs (~1.4 KB the
# firmware would be charged for; a board's boot sequence is C and costs none).
SETUP_FILE = Path(__file__).with_name("board_setup.py")
RUN_FILE = Path(__file__).with_name("board_run.py")


def boot_code(flash, run_main=True, root=True, note="", romfs=0):
    """MicroPython source for `-c`; flash is the absolute host path; romfs is
    the ROMFS partition's size in bytes, given only when flash holds an image
    that fits it (0: nothing to mount, no heap taken)."""
    return _TEMPLATE.format(setup=str(SETUP_FILE), run=str(RUN_FILE), flash=str(flash),
                            root=bool(root), romfs=int(romfs),
                            image=str(Path(flash) / ROMFS_IMAGE), run_main=bool(run_main),
                            note=note,
                            ready=markers.READY.decode(), reset=markers.RESET.decode())
