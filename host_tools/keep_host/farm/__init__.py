"""Boards on a labgrid farm: `--port labgrid:PLACE`.

A team's boards sit on exporter hosts and are shared through a labgrid
coordinator; a CI job reserves and acquires a *place* with labgrid's own
commands, then hands Keep `labgrid:PLACE`. Keep asks labgrid for that
place's serial port and uses its socket:// or rfc2217:// URL like any other.

labgrid is not imported here: it needs pyserial-labgrid, a fork that
installs over pyserial, so it lives in its own venv (`make farm` makes
`.venv-farm` from requirements-farm.txt; KEEP_FARM_VENV names another).
Each place Keep uses is held open by an agent (keep_host/farm/agent.py)
run by that venv's python for as long as this process lives: it keeps an
SSH forward to the exporter open (labgrid's proxy handling), notices at once
when the place is released or its exporter disconnects, and hands back the
serial URL again after a power cycle.

    url = resolve_port("labgrid:pico-1")   # any other port comes back unchanged
    place = opened("labgrid:pico-1")        # its Place: tags, power, check()
"""

import atexit
import json
import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path

from ..errors import KeepError
from ..runtime import end_child

PREFIX = "labgrid:"
AGENT = Path(__file__).with_name("agent.py")
REENUMERATE_S = 30.0  # a board's USB serial port back at its exporter after power returns


class PlaceGone(KeepError):
    """The place can't be used: not acquired by this user, released, its
    exporter or the coordinator gone. str() is the one line to show."""


def farm_venv():
    from ..paths import ROOT

    return Path(os.environ.get("KEEP_FARM_VENV") or ROOT / ".venv-farm")


def farm_bin(name):
    path = farm_venv() / "bin" / name
    if not path.exists():
        raise KeepError(f"labgrid places need Keep's farm venv, which is not there ({farm_venv()}): "
                        "run `make farm` (labgrid in .venv-farm, apart from Keep's pyserial)")
    return path


class Place:
    """One acquired labgrid place, held open by its agent process."""

    def __init__(self, name):
        if not name:
            raise KeepError("labgrid: needs a place name: --port labgrid:PLACE")
        self.name = name
        self.gone = None  # the one line, once the agent has said the place is gone
        self._replies = queue.Queue()
        self._lock = threading.Lock()
        self._errfile = tempfile.TemporaryFile("w+")  # a crash's last line, for the message
        self.proc = subprocess.Popen([str(farm_bin("python")), str(AGENT), name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._errfile, text=True, bufsize=1)
        first = self._next_line()  # the agent's first word: ready, or why not
        if first.get("event") != "ready":
            self.close()
            raise PlaceGone(first.get("message") or f"labgrid place {name}: the agent said {first}")
        self.url = first["url"]
        self.tags = first.get("tags") or {}
        self.power = bool(first.get("power"))
        self.exporters = first.get("exporters") or []
        threading.Thread(target=self._read, name=f"labgrid {name}", daemon=True).start()

    def _next_line(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self._errfile.seek(0)
            why = (self._errfile.read().strip().splitlines() or [f"exit {self.proc.returncode}"])[-1]
            return {"event": "gone", "message": f"labgrid place {self.name}: Keep's labgrid agent "
                    f"stopped ({why})"}
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "error", "message": f"labgrid agent: {line.strip()}"}

    def _read(self):
        while True:
            msg = self._next_line()
            if msg.get("event") == "gone":
                self.gone = self.gone or msg["message"]
                self._replies.put(msg)
                return
            self._replies.put(msg)

    def _ask(self, command):
        with self._lock:
            if self.gone:
                raise PlaceGone(self.gone)
            try:
                self.proc.stdin.write(command + "\n")
                self.proc.stdin.flush()
            except OSError:
                pass  # the agent has gone: its last words are on the way
            # No timeout of our own: the agent answers, or says why not and exits.
            msg = self._replies.get()
        if msg.get("event") == "gone":
            raise PlaceGone(msg["message"])
        if msg.get("event") == "error":
            raise KeepError(msg["message"])
        return msg

    def check(self):
        """None while this user still holds the place and its exporters are
        there; else the one line saying what happened."""
        try:
            self._ask("check")
        except PlaceGone as err:
            return str(err)
        return None

    def power_cycle(self, back_within_s=REENUMERATE_S):
        """Power-cycle the board through labgrid; returns the serial URL after it
        (KeepError if the port is not back within back_within_s)."""
        r = subprocess.run([str(farm_bin("labgrid-client")), "-p", self.name, "power", "cycle"],
                           capture_output=True, text=True)
        if r.returncode:
            why = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
            raise KeepError(f"labgrid place {self.name}: power cycle failed: {why}")
        self.url = self._ask(f"url {back_within_s:g}")["url"]
        return self.url

    def close(self):
        if self.proc.poll() is None:
            end_child(self.proc, 5)  # a closed stdin is the agent's cue to leave
        self._errfile.close()


_places = {}  # place name -> Place, for this process


def place_name(port):
    return port[len(PREFIX):].strip() if port and port.startswith(PREFIX) else None


def opened(port):
    """The Place for a labgrid:PLACE port (opened on first use), else None."""
    name = place_name(port)
    if name is None:
        return None
    if name not in _places:
        _places[name] = Place(name)
    return _places[name]


def resolve_port(port):
    """The URL to open for `port`: a labgrid place's serial URL, else port itself."""
    p = opened(port)
    return p.url if p is not None else port


@atexit.register
def _close_all():
    for p in list(_places.values()):
        p.close()
    _places.clear()
