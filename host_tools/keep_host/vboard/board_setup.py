# The virtual board's boot, first half: runs inside the MicroPython process.
#
# bootcode.py's -c program exec()s this file's text in a dict of its own
# holding `data` = (flash dir, mount it as root?, ROMFS partition bytes,
# ROMFS image path), so none of this bytecode, and none of its names, stay
# in the board's heap or the REPL's globals once it has run. Every name
# here is one the firmware already holds as a qstr (sys, os, vfs, buf, f,
# e, data): a board's boot is C and adds none to micropython.qstr_info().
# Short string literals (up to 10 bytes) are interned by the compiler even
# where they never run: keep them to what the firmware has ('/lib', '/rom').
# ruff: noqa: F821  (data and execfile exist only in that process)

import os
import sys

if data[2]:
    # The board's ROMFS partition, memory-mapped flash on a real board: here
    # the first bytes of the process heap, taken before anything else so the
    # firmware's heap above it is the board file's heap_bytes. Read now,
    # while the host path is still reachable (the mount below hides it).
    buf = bytearray(data[2])
    try:
        with open(data[3], 'rb') as f:
            f.readinto(buf)
    except OSError as e:
        print('keep vboard:', data[3], 'cannot be read, not mounted:', repr(e))
        buf = None
if data[1]:
    # The flash directory becomes the board's root, as on a board. (A
    # VfsPosix subclass could add file sizes to ilistdir() but breaks
    # imports on this port, so `fs ls` shows size 0 here.)
    os.umount('/')
    os.mount(os.VfsPosix(data[0]), '/')
    os.chdir('/')
    sys.path[:] = ['', '.frozen', '/lib']
if data[2] and buf is not None:
    # Like a board whose firmware has a ROMFS partition: mount it at /rom
    # and add /rom and /rom/lib to sys.path, after the filesystem (a module
    # on the filesystem shadows the one in ROM, as on a board). `keep deploy
    # --romfs` writes the image in the flash directory.
    try:
        import vfs
        vfs.mount(vfs.VfsRom(buf), '/rom')  # the mount keeps the buffer
        sys.path.append('/rom')
        sys.path.append('/rom' + '/lib')  # built at run time: '/rom/lib' would be interned
    except OSError as e:
        print('keep vboard:', data[3], 'is not a ROMFS image, not mounted:', repr(e))
