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

from ..runtime import note_name, pid_alive, runtime_dir


def _dir():
    return runtime_dir("vboards")


def _key(url):
    return note_name(url)


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
    if info.get("url") != url or not pid_alive(int(info.get("owner", 0))):
        try:
            path.unlink()
        except OSError:
            pass
        return None
    return info


def running():
    """Every live board's record, by URL (stale records are removed)."""
    try:
        paths = sorted(_dir().glob("*.json"))
    except OSError:
        return []
    out = []
    for path in paths:
        try:
            url = json.loads(path.read_text()).get("url")
        except (OSError, ValueError):
            continue
        info = lookup(url)
        if info is not None:
            out.append(info)
    return out
