"""Running virtual boards, found by their console URL.

A virtual board started on this machine (`keep vboard`, the HIL plugin,
`keep demo`) leaves a small record under the user's runtime directory:
its URL, which board it is, its control port, and the process that owns
it. Any `keep` command given that URL can then find the board's control
channel - the emulated Pico's clock, for waits in board time, and the
simulated test wiring - without being told. A record whose owner is gone
is ignored and removed.
"""

import json
import os
import tempfile
from pathlib import Path


def _dir():
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"keep-{os.getuid()}" / "vboards"


def _key(url):
    host_port = url.split("://", 1)[-1]
    return "".join(c if c.isalnum() else "_" for c in host_port) + ".json"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register(url, **info):
    """Record a board at `url` (info: board, kind, ctl_port...); returns the path."""
    d = _dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / _key(url)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(info, url=url, owner=os.getpid())))
    tmp.replace(path)
    return path


def unregister(url):
    try:
        (_dir() / _key(url)).unlink()
    except FileNotFoundError:
        pass


def lookup(url):
    """The record of a live board at `url`, or None."""
    if not url or "://" not in url:
        return None
    path = _dir() / _key(url)
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if info.get("url") != url or not _alive(int(info.get("owner", 0))):
        try:
            path.unlink()
        except OSError:
            pass
        return None
    return info
