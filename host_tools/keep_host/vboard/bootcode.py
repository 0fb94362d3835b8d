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
"""

from . import markers

_TEMPLATE = r'''
import sys as _keep_sys
import os as _keep_os
if {root!r}:
    # The flash directory becomes the board's root, as on a board. (A
    # VfsPosix subclass could add file sizes to ilistdir() but breaks
    # imports on this port, so `fs ls` shows size 0 here.)
    _keep_os.umount('/')
    _keep_os.mount(_keep_os.VfsPosix({flash!r}), '/')
    _keep_os.chdir('/')
    _keep_sys.path[:] = ['', '.frozen', '/lib']
try:
    import termios as _keep_t
    _keep_a = _keep_t.tcgetattr(0)
    _keep_a[3] |= 1  # ISIG: Ctrl-C raises KeyboardInterrupt from now on
    _keep_t.tcsetattr(0, 0, _keep_a)
    del _keep_t, _keep_a
except Exception:
    pass
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


def boot_code(flash, run_main=True, root=True, note=""):
    """MicroPython source for `-c`; flash is the absolute host path."""
    files = ("boot.py", "main.py") if run_main else ("boot.py",)
    return _TEMPLATE.format(ready=markers.READY.decode(), reset=markers.RESET.decode(),
                            root=bool(root), flash=str(flash), files=files, note=note)
