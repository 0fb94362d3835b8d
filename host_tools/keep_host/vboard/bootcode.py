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
if {romfs}:
    # The board's ROMFS partition, memory-mapped flash on a real board: here
    # the first {romfs} bytes of the process heap, taken before anything else
    # so the firmware's heap above it is the board file's heap_bytes.
    _keep_rom = bytearray({romfs})
if {root!r}:
    # The flash directory becomes the board's root, as on a board. (A
    # VfsPosix subclass could add file sizes to ilistdir() but breaks
    # imports on this port, so `fs ls` shows size 0 here.)
    _keep_os.umount('/')
    _keep_os.mount(_keep_os.VfsPosix({flash!r}), '/')
    _keep_os.chdir('/')
    _keep_sys.path[:] = ['', '.frozen', '/lib']
if {romfs}:
    # Like a board whose firmware has a ROMFS partition: mount it at /rom
    # and add /rom and /rom/lib to sys.path, after the filesystem (a module
    # on the filesystem shadows the one in ROM, as on a board). `keep deploy
    # --romfs` writes the image as romfs.img in the flash directory.
    try:
        with open({image!r}, 'rb') as _keep_f:
            _keep_f.readinto(_keep_rom)
        import vfs as _keep_v
        _keep_v.mount(_keep_v.VfsRom(_keep_rom), '/rom')  # the mount keeps the buffer
        _keep_sys.path.append('/rom')
        _keep_sys.path.append('/rom/lib')
        del _keep_v, _keep_f
    except OSError as _keep_e:
        print('keep vboard: {image} is not a ROMFS image, not mounted:', repr(_keep_e))
        del _keep_e
    del _keep_rom
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


ROMFS_IMAGE = "romfs.img"  # the ROMFS partition's contents, in the flash directory


def boot_code(flash, run_main=True, root=True, note="", romfs=0):
    """MicroPython source for `-c`; flash is the absolute host path; romfs is
    the ROMFS partition's size in bytes, given only when flash holds an image
    that fits it (0: nothing to mount, no heap taken)."""
    files = ("boot.py", "main.py") if run_main else ("boot.py",)
    return _TEMPLATE.format(ready=markers.READY.decode(), reset=markers.RESET.decode(),
                            root=bool(root), flash=str(flash), files=files, note=note,
                            romfs=int(romfs), image=ROMFS_IMAGE)
