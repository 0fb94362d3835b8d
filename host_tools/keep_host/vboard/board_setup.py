# The virtual board's boot, first half: runs inside the MicroPython process.
#
# bootcode.py's -c program sets _keep_c = (flash dir, mount it as root?,
# ROMFS partition bytes, ROMFS image name) and exec()s this
# file's text, so none of this bytecode stays on the board's heap after it
# has run. Only names starting with _keep_ are made, and all are deleted.
# ruff: noqa: F821  (_keep_c and execfile exist only in that process)

import sys as _keep_sys
import os as _keep_os
if _keep_c[2]:
    # The board's ROMFS partition, memory-mapped flash on a real board: here
    # the first bytes of the process heap, taken before anything else so the
    # firmware's heap above it is the board file's heap_bytes.
    _keep_rom = bytearray(_keep_c[2])
if _keep_c[1]:
    # The flash directory becomes the board's root, as on a board. (A
    # VfsPosix subclass could add file sizes to ilistdir() but breaks
    # imports on this port, so `fs ls` shows size 0 here.)
    _keep_os.umount('/')
    _keep_os.mount(_keep_os.VfsPosix(_keep_c[0]), '/')
    _keep_os.chdir('/')
    _keep_sys.path[:] = ['', '.frozen', '/lib']
if _keep_c[2]:
    # Like a board whose firmware has a ROMFS partition: mount it at /rom
    # and add /rom and /rom/lib to sys.path, after the filesystem (a module
    # on the filesystem shadows the one in ROM, as on a board). `keep deploy
    # --romfs` writes the image in the flash directory.
    try:
        with open(_keep_c[3], 'rb') as _keep_f:
            _keep_f.readinto(_keep_rom)
        import vfs as _keep_v
        _keep_v.mount(_keep_v.VfsRom(_keep_rom), '/rom')  # the mount keeps the buffer
        _keep_sys.path.append('/rom')
        _keep_sys.path.append('/rom/lib')
        del _keep_v, _keep_f
    except OSError as _keep_e:
        print('keep vboard:', _keep_c[3], 'is not a ROMFS image, not mounted:', repr(_keep_e))
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
del _keep_os, _keep_sys  # the -c program writes READY next, right before boot.py
