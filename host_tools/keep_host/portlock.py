"""Which `keep` process has a board's port open.

A board's console serves one program at a time: a second program on a
serial port gets "busy", and a virtual board's socket hands itself to the
newest client, so the first one sees its connection drop as if the board
had died. So every port a `keep` process opens is noted in a small file
under the user's runtime directory (the pid and command line), and a
second `keep` process refuses that port in one line that names the first.
A note whose process is gone is stale and taken over.

Within one process the note is shared (a HIL session's link and its
console calls): it goes when the last user closes the port.
"""

import contextlib
import json
import os
import sys

from .errors import KeepError
from .runtime import note_name, pid_alive, runtime_dir

_held = {}  # path -> how many open ports of this process use it


class PortInUse(KeepError):
    """Another live keep process has the port open."""


def _path(url):
    return runtime_dir("ports") / note_name(url)


def holder(url):
    """{pid, command} of the live keep process holding `url`, else None."""
    try:
        info = json.loads(_path(url).read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if pid_alive(pid) else None


def _command():
    """This process's command line as its user typed it, for the message."""
    prog = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    name = os.path.basename(prog)
    if name == "__main__.py":  # python -m keep_host / python -m pytest
        name = os.path.basename(os.path.dirname(prog))
    name = {"keep_host": "keep"}.get(name, name)
    text = " ".join([name, *sys.argv[1:]])
    return text if len(text) <= 80 else text[:77] + "..."


def acquire(url):
    """Note that this process has `url` open; PortInUse if another one has."""
    path = _path(url)
    if path in _held:
        _held[path] += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.dumps({"pid": os.getpid(), "command": _command(), "url": url})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            info = holder(url)
            if info is not None and int(info["pid"]) != os.getpid():
                raise PortInUse(f"{url} is in use by pid {info['pid']} ({info.get('command')}): "
                                "a board's console serves one program at a time; stop that "
                                "one first")
            try:
                path.unlink()  # stale: its process is gone
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as f:
            f.write(record)
        _held[path] = 1
        return
    raise KeepError(f"cannot note that {url} is in use ({path} keeps coming back)")


def release(url):
    path = _path(url)
    n = _held.get(path, 0) - 1
    if n > 0:
        _held[path] = n
        return
    _held.pop(path, None)
    try:
        info = json.loads(path.read_text())
        if int(info.get("pid", 0)) == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def key(url):
    """The same port under one name: a device path through its symlinks."""
    return url if "://" in url else os.path.realpath(url)


@contextlib.contextmanager
def held(url):
    """This process has `url` open for the block (a tool it runs, e.g. mpremote or esptool, uses it)."""
    acquire(key(url))
    try:
        yield
    finally:
        release(key(url))


class LockedPort:
    """A pyserial port whose close() also releases the note; everything
    else goes to the port itself."""

    def __init__(self, port, url):
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_url", url)

    def __getattr__(self, name):
        return getattr(self._port, name)

    def __setattr__(self, name, value):
        setattr(self._port, name, value)

    def close(self):
        if self._url is not None:
            url = self._url
            object.__setattr__(self, "_url", None)
            release(url)
        self._port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
