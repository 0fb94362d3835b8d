"""The code the virtual board runs first in each MicroPython process.

A board's firmware, after a reset: mounts its flash at /, runs boot.py,
runs main.py (unless the reset came from the raw REPL, or safe boot was
asked for), then starts the REPL sharing main.py's globals. The unix port
has no such sequence, so the host passes this program with `-i -c`: `-c`
runs it, `-i` then starts the REPL with the same globals.

Invariants:
- The READY marker is printed after the flash is mounted and ISIG is on,
  right before boot.py: a Ctrl-C after READY interrupts boot.py/main.py and
  can never land in the half-done mount.
- SystemExit from boot.py/main.py (sys.exit, machine.soft_reset) becomes a
  RESET marker; the host then restarts the process (with `-i` the unix port
  would otherwise carry on into the REPL).
- Only names starting with `_keep_` are added to the REPL globals, and they
  are deleted before the REPL starts.
- The first half (mount, sys.path, ROMFS, ISIG) is board_setup.py, exec'd
  from its text: only the run loop's bytecode stays on the board's heap.
"""

from pathlib import Path

from . import markers

_TEMPLATE = r'''
_keep_c = ({flash!r}, {root!r}, {romfs}, {image!r})
exec(open({setup!r}).read())  # compiled, run and dropped: see SETUP_FILE
import sys as _keep_sys
import os as _keep_os
del _keep_c
_keep_sys.stdout.write({ready!r})
try:
    if {note!r}:
        print({note!r})
    for _keep_f in {files!r}:
        try:
            _keep_os.stat(_keep_f)
        except OSError:
            continue
        try:
            execfile(_keep_f)
        except SystemExit:
            _keep_sys.stdout.write({reset!r})
            while True:
                try:
                    __import__('time').sleep(1)
                except BaseException:
                    pass
        except BaseException as _keep_e:
            _keep_sys.print_exception(_keep_e)
            del _keep_e
    del _keep_f
except KeyboardInterrupt:
    pass
del _keep_os, _keep_sys
'''


ROMFS_IMAGE = "romfs.img"  # the ROMFS partition's contents, in the flash directory
# The first half of the boot (flash, sys.path, ROMFS, Ctrl-C), read from
# this file and exec'd: its bytecode is garbage once it has run. Inline in the
# -c program it would stay on the heap for as long as main.py runs (~1.4 KB the
# firmware would be charged for; a board's boot sequence is C and costs none).
SETUP_FILE = Path(__file__).with_name("board_setup.py")


def boot_code(flash, run_main=True, root=True, note="", romfs=0):
    """MicroPython source for `-c`; flash is the absolute host path; romfs is
    the ROMFS partition's size in bytes, given only when flash holds an image
    that fits it (0: nothing to mount, no heap taken)."""
    files = ("boot.py", "main.py") if run_main else ("boot.py",)
    return _TEMPLATE.format(ready=markers.READY.decode(), reset=markers.RESET.decode(),
                            root=bool(root), flash=str(flash), files=files, note=note,
                            romfs=int(romfs), image=ROMFS_IMAGE, setup=str(SETUP_FILE))
