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
  boot would not have. The mount (board_setup.py) is exec'd from its text
  in a dict of its own; the run loop below binds only `__file__`, which
  execfile() sets to the file it runs anyway, as a board's boot does. Both
  use only names the firmware already interns, and get their settings as
  long literals (the compiler interns string literals of 10 bytes or
  less); 'boot.py' and 'main.py' are interned, as a board has them in ROM
  (built at run time instead, they would cost 190 bytes of heap for as
  long as main.py runs).
- The run loop's source is the -c argument, which the port reads from C
  memory: only its bytecode is on the heap while main.py runs. (Exec'd from
  a file, the source text would stay on the heap for as long, held by
  exec(): 2.5 KB, too much for the chaos demo's 64 KB.)
"""

from pathlib import Path

from . import markers

_TEMPLATE = r'''exec(open({setup!r}).read(), {{'data': ({flash!r}, {root!r}, {romfs}, {image!r})}})
__import__('sys').stdout.write({ready!r})
try:
    if {note!r}:
        print({note!r})
    for __file__ in ('boot.py', 'main.py')[:{count}]:
        try:
            __import__('os').stat(__file__)
        except OSError:
            continue
        try:
            execfile(__file__)
        except SystemExit:
            __import__('sys').stdout.write({reset!r})
            while True:
                try:
                    __import__('time').sleep(1)
                except BaseException:
                    pass
        except BaseException as __file__:
            __import__('sys').print_exception(__file__)
except KeyboardInterrupt:
    pass
'''


ROMFS_IMAGE = "romfs.img"  # the ROMFS partition's contents, in the flash directory
# The first half of the boot (flash, sys.path, ROMFS), read from this file
# and exec'd: its bytecode is garbage once it has run. Inline in the -c
# program it would stay on the heap for as long as main.py runs (~1.4 KB the
# firmware would be charged for; a board's boot sequence is C and costs none).
SETUP_FILE = Path(__file__).with_name("board_setup.py")


def boot_code(flash, run_main=True, root=True, note="", romfs=0):
    """MicroPython source for `-c`; flash is the absolute host path; romfs is
    the ROMFS partition's size in bytes, given only when flash holds an image
    that fits it (0: nothing to mount, no heap taken)."""
    return _TEMPLATE.format(setup=str(SETUP_FILE), flash=str(flash), root=bool(root),
                            romfs=int(romfs), image=str(Path(flash) / ROMFS_IMAGE),
                            count=2 if run_main else 1, note=note,
                            ready=markers.READY.decode(), reset=markers.RESET.decode())
