"""A labgrid farm on 127.0.0.1 for the farm tests (and by hand: see main()).

What a team's rack has, made of local parts: a labgrid coordinator, one
exporter per board (labgrid-exporter, its own process, so one can be killed
alone), each exporting a `keep vboard` console as a NetworkSerialPort with
protocol raw, and a place per board (`pico-1`, `pico-2`) tagged board=unix.
A board given power=True also gets a NetworkPowerPort (model simplerest)
that points at a small relay served here: off stops the board's interpreter
(a chip without power answers nothing), on restarts it - labgrid's own
`power cycle` drives it.

labgrid runs from the farm venv (`make farm`); nothing here imports it.
Every process started is stopped by close(), whatever happened.
"""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from keep_host.boardtime import Deadline
from keep_host.farm import farm_bin
from keep_host.paths import ROOT, venv_bin

HEAP = "256K"  # the hil app's twelve tasks, as the HIL plugin gives its own boards
START_S = 60.0  # a process coming up on a loaded machine (ends early once it has)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Proc:
    """A started process whose output lines are collected (and waited on)."""

    def __init__(self, argv, log, **kw):
        self.log = open(log, "w")
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                                     **kw)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, text, seconds=START_S):
        """The first output line containing text; RuntimeError if the process
        ends or the deadline passes first."""
        d = Deadline(seconds)
        with self.cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                if self.proc.poll() is not None or d.expired():
                    raise RuntimeError(f"{self.proc.args[:2]} did not say {text!r}: "
                                       + "".join(self.lines[-10:]))
                self.cond.wait(min(d.remaining(), 0.5))

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()


class _Relay(http.server.ThreadingHTTPServer):
    """simplerest power switch: GET /relay/I/V (V 0 or 1), GET /relay/I -> "1"/"0"."""

    def __init__(self, farm):
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.farm = farm
        self.on = {}
        self.switches = []  # (index, on) in order, for the tests
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _RelayHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = [p for p in self.path.split("/") if p]
        index = int(parts[1])
        if len(parts) > 2:
            on = parts[2] == "1"
            self.server.farm.boards[index].power(on)
            self.server.on[index] = on
            self.server.switches.append((index, on))
        body = b"1" if self.server.on.get(index, True) else b"0"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Board:
    def __init__(self, farm, index, power, kind="unix"):
        self.farm, self.index, self.has_power, self.kind = farm, index, power, kind
        self.place = f"pico-{index + 1}"
        self.exporter_name = f"farm-exp{index + 1}"
        d = farm.dir / self.place
        d.mkdir()
        heap = ["--heap", HEAP] if kind == "unix" else []  # the Pico's heap is its own
        self.vboard = _Proc([str(venv_bin("keep")), "vboard", "--board", kind,
                             "--flash", str(d / "flash"), *heap], d / "vboard.log")
        self.url = self.vboard.wait_line("socket://").strip()
        self.info = json.loads(self.vboard.wait_line('"sim_ctl_port"'))
        self.exporter = None
        self.config = d / "exporter.yaml"
        self.stopped = []  # interpreter pids while the power is off

    def export(self):
        port = self.url.rsplit(":", 1)[1]
        text = (f"board:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {port}\n"
                "    protocol: raw\n    speed: 115200\n")
        if self.has_power:
            text += (f"  NetworkPowerPort:\n    model: simplerest\n"
                     f"    host: 'http://127.0.0.1:{self.farm.relay.server_port}/relay/{{index}}/{{value}}'\n"
                     f"    index: {self.index}\n")
        self.config.write_text(text)
        self.exporter = _Proc([str(farm_bin("labgrid-exporter")), "-c", self.farm.address,
                               "-n", self.exporter_name, "--hostname", "127.0.0.1",
                               str(self.config)], self.config.with_suffix(".log"))
        self.exporter.wait_line("connected to coordinator")

    def interpreter_pids(self):
        """The vboard's child processes: its MicroPython interpreter."""
        tasks = Path(f"/proc/{self.vboard.proc.pid}/task")  # any of its threads may have started it
        return [int(p) for t in tasks.iterdir() for p in (t / "children").read_text().split()]

    def power(self, on):
        """The relay: off stops the interpreter (a chip without power answers
        nothing); on kills it, and the vboard boots a new one, as a chip boots
        when power comes back."""
        if on:
            for pid in self.stopped:
                os.kill(pid, signal.SIGKILL)
            self.stopped = []
        else:
            self.stopped = self.interpreter_pids()
            for pid in self.stopped:
                os.kill(pid, signal.SIGSTOP)


class Farm:
    def __init__(self, tmp, boards=2, power=(True, False)):
        self.dir = Path(tmp)
        self.procs = []
        self.boards = []
        try:
            self._start(boards, power)
        except BaseException:
            self.close()
            raise

    def _start(self, n, power):
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        coord = self.dir / "coordinator"
        coord.mkdir()
        self.coordinator = _Proc([str(farm_bin("labgrid-coordinator")), "-l", self.address],
                                 coord / "coordinator.log", cwd=coord)
        self.procs.append(self.coordinator)
        self.coordinator.wait_line("Coordinator ready")
        self.relay = _Relay(self)
        for i in range(n):
            self._board(power[i] if i < len(power) else False)
        for b in self.boards:
            self._export(b)

    def _board(self, power, kind="unix"):
        b = Board(self, len(self.boards), power, kind)
        self.procs.append(b.vboard)
        self.boards.append(b)
        return b

    def _export(self, b):
        b.export()
        self.procs.append(b.exporter)
        self.client("-p", b.place, "create")
        self.client("-p", b.place, "add-match", f"{b.exporter_name}/board/*")
        self.client("-p", b.place, "set-tags", f"board={b.kind}")

    def add(self, kind):
        """One more board and place (e.g. an emulated Pico, kind rpi_pico)."""
        b = self._board(False, kind)
        self._export(b)
        return b

    @property
    def env(self):
        return dict(os.environ, LG_COORDINATOR=self.address)

    def client(self, *args, user=None, check=True):
        """labgrid-client ARGS against this farm (as another user if given)."""
        env = self.env
        if user:
            env["LG_USERNAME"] = user
        r = subprocess.run([str(farm_bin("labgrid-client")), *args], env=env,
                           capture_output=True, text=True)
        if check and r.returncode:
            raise RuntimeError(f"labgrid-client {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def close(self):
        if getattr(self, "relay", None) is not None:
            self.relay.shutdown()
            self.relay.server_close()
        for p in reversed(self.procs):
            p.kill()
        self.procs.clear()


def main():
    """python tests/host/farm_rig.py [DIR] [--pico]: a farm to try by hand, until
    Ctrl-C; --pico adds a place pico-3 exporting an emulated Pico (board=rpi_pico)."""
    import tempfile

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # `kill` stops the farm too, not just this script
    args = [a for a in sys.argv[1:] if a != "--pico"]
    tmp = args[0] if args else tempfile.mkdtemp(prefix="keep-farm-")
    farm = Farm(tmp)
    if "--pico" in sys.argv:
        farm.add("rpi_pico")
    print(f"LG_COORDINATOR={farm.address}  places: "
          + ", ".join(b.place for b in farm.boards) + f"  (logs in {tmp})", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        farm.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "host_tools"))
    main()
