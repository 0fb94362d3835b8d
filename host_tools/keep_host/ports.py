"""Which port a command talks to, and what is attached.

Every command that talks to a board takes `-p/--port`; without it the port
comes from, in order:

1. the `KEEP_PORT` environment variable,
2. `port = "..."` in the nearest `keep.toml`, looked for in the current
   folder and then each parent folder (the project's config file),
3. the one attached serial port whose USB VID:PID is in a board file
   (boards/*.toml `[[usb]]`, mode "serial").

resolve() is the one place a port string becomes a name pyserial opens:
a device path (/dev/ttyUSB0, COM3), a URL (socket://HOST:PORT), or
`id:SERIAL` (the USB serial port with that serial number), or a labgrid
place, `labgrid:PLACE` (keep_host.farm: the place's serial URL).
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import KeepError

ENV = "KEEP_PORT"
CONFIG = "keep.toml"
HINT = "keep ports lists what is attached"


@dataclass(frozen=True)
class Attached:
    """A serial port on this machine, and the board it looks like (or None)."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str
    board: str | None

    def line(self):
        usb = f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None else "no USB id"
        sn = f" serial {self.serial_number}" if self.serial_number else ""
        return f"{self.device:<22} {self.board or '-':<15} {usb}{sn}  {self.description}"


def _board_ids(board=None):
    """(vid, pid) -> board name, for console (mode "serial") USB ids."""
    from .boards import load_all

    ids = {}
    for b in load_all():
        if board and b.name != board:
            continue
        for u in b.usb:
            if u.mode == "serial":
                ids.setdefault((u.vid, u.pid), b.name)
    return ids


def _comports():
    from serial.tools import list_ports

    return list_ports.comports()


def attached(board=None, usb_only=True):
    """The serial ports here, each with the board its USB ids match."""
    ids = _board_ids()
    out = []
    for p in sorted(_comports(), key=lambda p: p.device):
        if usb_only and p.vid is None:
            continue
        name = ids.get((p.vid, p.pid))
        if board and name != board:
            continue
        desc = p.description if p.description and p.description != "n/a" else ""
        out.append(Attached(p.device, p.vid, p.pid, p.serial_number or None, desc, name))
    return out


def virtual():
    """The virtual boards running on this machine (keep vboard, the HIL plugin...)."""
    from .vboard import registry

    return registry.running()


def find_config(start=None):
    """The nearest keep.toml from `start` (default: the current folder) up, or None."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        path = d / CONFIG
        if path.is_file():
            return path
    return None


def configured(start=None):
    """(port, where it came from) from KEEP_PORT or keep.toml, else (None, None)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return env, ENV
    path = find_config(start)
    if path is None:
        return None, None
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise KeepError(f"cannot read {path}: {err}")
    port = data.get("port")
    if port is None:
        return None, None
    if not isinstance(port, str) or not port.strip():
        raise KeepError(f"{path}: port must be a non-empty string, e.g. port = \"/dev/ttyUSB0\"")
    return port.strip(), str(path)


def detect(board=None):
    """The one attached board's port (matching `board` if given), or a KeepError."""
    found = [a for a in attached(board) if a.board]
    what = board or "board"
    if not found:
        ids = ", ".join(f"{v:04x}:{p:04x}" for v, p in sorted(_board_ids(board)))
        vb = [r["url"] for r in virtual()]
        also = f"; virtual boards running: {', '.join(vb)}" if vb else ""
        raise KeepError(f"no {what} found by USB id ({ids}): plug one in, or give -p/--port "
                        f"(or {ENV}){also}")
    if len(found) > 1:
        listed = ", ".join(f"{a.device} ({a.board})" for a in found)
        raise KeepError(f"several boards attached: {listed}; pick one with -p/--port")
    return found[0].device


def resolve(text=None, board=None, detect_ok=True):
    """The port to open: `text` (from -p/--port), else KEEP_PORT, keep.toml,
    or the one attached board; device names are checked to exist."""
    if not text:
        text, _ = configured()
    if not text:
        if not detect_ok:
            raise KeepError(f"no port: give -p/--port, or set {ENV}")
        return detect(board)
    return name_to_device(text)


def name_to_device(text):
    """A port name as a user writes it -> what pyserial opens (KeepError if it can't be)."""
    text = text.strip()
    if not text:
        raise KeepError("the port is empty: give a device, id:SERIAL or socket://HOST:PORT")
    if text.startswith("id:"):
        return _by_serial_number(text[3:])
    if text.startswith("labgrid:"):
        from .farm import resolve_port

        return resolve_port(text)  # the acquired place's serial URL
    if "://" in text:
        return _check_url(text)
    if os.path.exists(text) or any(p.device == text for p in _comports()):
        return text
    known = ", ".join(a.device for a in attached()) or "none"
    raise KeepError(f"port {text} does not exist (attached: {known}; {HINT})")


def _check_url(url):
    """A socket:// or rfc2217:// URL needs HOST:PORT (pyserial's own message
    for a missing port is a Python comparison error); other URLs pass."""
    from urllib.parse import urlsplit

    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("socket", "rfc2217"):
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.hostname or not port:
        raise KeepError(f"{url}: a {scheme}:// URL needs HOST:PORT with a port 1..65535, "
                        f"e.g. {scheme}://127.0.0.1:4000")
    return url


def _by_serial_number(want):
    found = [p for p in _comports() if (p.serial_number or "") == want]
    if not found:
        seen = ", ".join(f"{p.device} ({p.serial_number})" for p in _comports()
                         if p.serial_number) or "none with a serial number"
        raise KeepError(f"no serial port with USB serial number {want} (ports: {seen}; {HINT})")
    return found[0].device
