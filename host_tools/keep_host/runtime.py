"""Small notes `keep` processes leave for each other (running virtual
boards, ports in use), under the user's runtime directory; and how a
keep process ends a helper process it started (end_child)."""

import os
import tempfile
from pathlib import Path


def runtime_dir(sub):
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"keep-{os.getuid()}" / sub


def note_name(url):
    """A file name for a port or URL: socket://127.0.0.1:4000 -> 127_0_0_1_4000.json."""
    host_port = url.split("://", 1)[-1]
    return "".join(c if c.isalnum() else "_" for c in host_port) + ".json"


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_child(proc, wait_s):
    """End a helper process that leaves when its stdin closes (the emulated
    Pico's runner, a farm agent): close it, wait up to wait_s, then kill."""
    import subprocess

    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
