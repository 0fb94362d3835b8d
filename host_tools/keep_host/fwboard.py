"""Firmware tests on a board: one connection, one deploy, a soft reset per test.

    target = SerialBoard("socket://127.0.0.1:4000", board="rpi_pico")
    target.setup(tests)            # compile for the board's arch, copy what changed
    result = target.run("tests/firmware/kernel_ipc.py")    # a fwtest.Result
    target.close()

    with EmulatedBoard(workdir) as target:   # an emulated Pico of its own
        target.setup(tests)
        target.run(path)

setup() compiles the firmware a test may import (keep/, hal/ less the
simulator, servers/, clients/, apps/), the test helpers (tests/firmware/lib)
and the test programs themselves to .mpy for the board's arch, the way
`keep deploy` does, and copies the ones whose sha256 differs into DIR
(/fwtest) on the board, away from a deployed app's modules. run() then
costs one soft reset (a fresh interpreter and heap: what one test did
cannot reach the next) and one raw-REPL exchange that imports the test
module from DIR. Importing a module compiled on the host, not pasting the
source, saves the board's compiler its RAM and time, and keeps the file
name a traceback shows ("kernel_faults.py") what it is on the unix port.

What was measured on the emulated Pico (docs/emulator.md): setup ~25 s
on a fresh flash (~90 files), a soft reset plus the import of a small test
0.3-0.5 s; `mpremote run FILE` costs a new process, a new connection and a
raw-REPL entry per test instead, ~1.5 s.

Invariants:
- Every wait is in board time (keep_host.boardtime.clock_for(port)): the
  emulated Pico runs at a fraction of real speed, less on a loaded PC.
- A test cannot leave the board unusable for the next: the exchange unlocks
  a heap the test left locked (the rp2 port does not reset its heap lock
  on a soft reset, so the next boot's first allocation would be fatal).
- SystemExit(n) is the test's exit status, as on the unix port: the raw
  REPL swallows it, so the exchange prints it on a marker line that run()
  removes from the output.
"""

import hashlib
import time
from pathlib import Path

from . import deploy, paths, slots
from .boardtime import Deadline, clock_for
from .boards import load_board
from .device import upload_many
from .errors import KeepError
from .fwtest import FW_LIB, Result
from .transport import shut

DIR = "fwtest"  # on the board, beside (not over) a deployed app
FIRMWARE_DIRS = ("keep", "runtime", "hal", "servers", "clients", "apps")
TIMEOUT_S = 120.0  # board seconds per test; the slowest runs ~60 s on the emulated Pico
_EXIT = "\x1ekeep-fwtest-exit"  # the marker line carrying SystemExit's code

# One raw-REPL exchange per test. The heap lock is undone by counting (a
# heap_unlock() below zero would lock the heap for good), with every name
# the `finally` stores made beforehand: a new global in a locked heap
# would need the globals dict to grow.
_RUN = """\
import sys, os, micropython
os.chdir(%(dir)r)
sys.path.insert(0, %(dir)r)
_k_code = 0
_k_n = 0
try:
    import %(name)s
except SystemExit as _k_e:
    _k_code = _k_e.args[0] if _k_e.args else 0
finally:
    micropython.heap_lock()
    _k_n = micropython.heap_unlock()
    while _k_n:
        _k_n = micropython.heap_unlock()
    print(%(mark)r, _k_code)
"""


def modules(tests=()):
    """{board path: source path} of what a test may import on a board, and the tests."""
    out = {}
    fw = paths.FIRMWARE
    for d in FIRMWARE_DIRS:
        for src in sorted((fw / d).rglob("*.py")):
            rel = src.relative_to(fw)
            if rel.parts[:2] == ("hal", "sim"):
                continue  # the unix port's simulated world: tests that need it skip on a board
            out[rel.as_posix()] = src
    for src in sorted(FW_LIB.glob("*.py")):
        out[src.name] = src
    for src in tests:
        out[Path(src).name] = Path(src)
    return out


class SerialBoard:
    """Runs firmware tests on the board at `port` (a serial device or socket://)."""

    def __init__(self, port, board="rpi_pico", timeout=TIMEOUT_S):
        self.port = port
        self.name = board
        self.board = load_board(board)
        self.timeout = timeout
        self.repl = None
        self.clock = None
        self.deployed = {}  # board path -> sha256 of what setup() put there
        self.setup_s = 0.0

    # ---- the connection --------------------------------------------------------
    def _open(self):
        from .repl import RawRepl

        if self.clock is None:
            self.clock = clock_for(self.port)
        self.repl = RawRepl(self.port)
        self.repl.open()
        self.repl.enter(soft_reset=True)

    def close_link(self):
        """Drop the connection (the next run() opens a new one)."""
        if self.repl is not None:
            self.repl.close()
            self.repl = None

    def close(self):
        self.close_link()
        if self.clock is not None:
            self.clock.close()
            self.clock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- deploy ------------------------------------------------------------------
    def build(self, tests=()):
        """{board path under DIR: .mpy bytes} for this board's arch."""
        arch = self.board.mpy_arch
        return {f"{DIR}/{name[:-3]}.mpy": deploy.compile_mpy(src.read_bytes(), name, arch)
                for name, src in modules(tests).items()}

    def setup(self, tests=()):
        """Compile and copy what changed; returns (uploaded, up to date)."""
        t0 = time.monotonic()
        if deploy.mpy_cross_version() != self.board.mpy_version:
            raise KeepError(f"mpy-cross emits .mpy v{deploy.mpy_cross_version()} but "
                            f"{self.name} loads v{self.board.mpy_version}")
        files = self.build(tests)
        if self.repl is None:
            self._open()
        have = slots.file_info(self.repl, files)
        todo = [n for n, data in files.items()
                if have.get(n) != [len(data), hashlib.sha256(data).hexdigest()]]
        dirs = slots.parents(todo)
        if dirs:
            self.repl.exec("import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n"
                           "  pass\n" % dirs)
        upload_many(self.repl, {n: files[n] for n in todo})
        self.deployed = {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
        self.repl.enter(soft_reset=True)  # the first test's fresh interpreter
        self.setup_s = time.monotonic() - t0
        return len(todo), len(files) - len(todo)

    # ---- one test ----------------------------------------------------------------
    def run(self, path):
        path = Path(path)
        if f"{DIR}/{path.stem}.mpy" not in self.deployed:
            return Result(f"{path.name} is not on the board: setup() did not deploy it", -1)
        try:
            if self.repl is None:
                self._open()
            out, err = self._exchange(_RUN % {"dir": "/" + DIR, "name": path.stem, "mark": _EXIT})
        except KeepError as e:
            self.close_link()
            return Result(f"<{e}>", -1)
        except BaseException:
            self.close_link()  # stopped mid-exchange (a pytest timeout): the next run starts afresh
            raise
        res = _result(out, err)
        # The next test's fresh interpreter, made now: a test that leaves the
        # board unable to soft-reset fails itself, not the test after it.
        try:
            self.repl.enter(soft_reset=True)
        except KeepError as e:
            self.close_link()
            res.output += f"\n<no soft reset after the test: {e}>"
            res.returncode = -1
        return res

    def _exchange(self, code):
        """exec_raw with the wait in board time: (stdout, stderr) bytes."""
        t = self.repl.transport
        t.exec_raw_no_follow(code)
        ser = t.serial
        parts = [bytearray(), bytearray()]
        i = 0
        deadline = Deadline(self.timeout, self.clock)
        next_look = time.monotonic() + 0.5
        while True:
            n = ser.in_waiting
            if n:
                data = ser.read(n)
                while data:
                    eof = data.find(b"\x04")
                    if eof < 0:
                        parts[i] += data
                        break
                    parts[i] += data[:eof]
                    data = data[eof + 1:]
                    i += 1
                    if i == 2:
                        return bytes(parts[0]), bytes(parts[1])
                continue
            if time.monotonic() >= next_look:  # the board clock costs a round trip
                next_look = time.monotonic() + 0.5
                if deadline.expired():
                    self._interrupt()
                    raise KeepError(f"no end within {self.timeout:g} s of board time; "
                                    f"last output {bytes(parts[0][-200:])!r}")
            time.sleep(0.005)

    def _interrupt(self):
        """After a timeout: Ctrl-C, back to the raw REPL (KeepError if the board is gone)."""
        self.repl.transport.in_raw_repl = False
        self.repl.enter()


def _result(out, err):
    text = out.decode(errors="replace").replace("\r\n", "\n")
    code = 0
    head, sep, tail = text.rpartition(_EXIT + " ")
    if sep:
        text = head
        word = tail.strip()
        code = int(word) if word.lstrip("-").isdigit() else 1
        if not word.lstrip("-").isdigit() and word != "None":
            text += word + "\n"  # SystemExit("message"): the unix port prints it, exit 1
        elif word == "None":
            code = 0
    if err:
        text += err.decode(errors="replace").replace("\r\n", "\n")
        code = code or 1
    return Result(text, code)


WORK = paths.ROOT / "build" / "fwtest"


def workdir_for(board, worker=None):
    """build/fwtest/BOARD[-WORKER]: where an EmulatedBoard keeps its flash
    between runs, so the next run copies only what changed (~9 s instead of
    ~30 s of setup on the emulated Pico)."""
    return WORK / (board + (f"-{worker}" if worker else ""))


class EmulatedBoard(SerialBoard):
    """SerialBoard over an emulated board of its own (keep_host.vboard), started
    by setup() and restarted if the emulator dies (a test that crashes the
    firmware: the next test gets a new chip, with its flash and the deploy).

    The flash lives in WORKDIR/flash, locked while in use: a second process
    given the same WORKDIR (two pytest runs at once) gets a temporary one.
    A kept flash the setup fails on is wiped and set up once more."""

    def __init__(self, workdir, board="rpi_pico", timeout=TIMEOUT_S):
        super().__init__(None, board, timeout)
        self.workdir = Path(workdir)
        self.pico = None
        self.restarts = 0
        self._lock = None
        self._tmp = None

    def _flash_dir(self):
        import fcntl
        import tempfile

        if self._lock is None and self._tmp is None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            f = open(self.workdir / "lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock = f
            except OSError:
                f.close()
                self._tmp = tempfile.TemporaryDirectory(prefix="keep-fwtest-")
        return Path(self._tmp.name if self._tmp else self.workdir) / "flash"

    def _start(self):
        from .vboard import open_virtual

        self.pico = open_virtual(self.name, self._flash_dir())
        self.pico.start()
        self.port = self.pico.url

    def setup(self, tests=()):
        import shutil

        t0 = time.monotonic()
        if self.pico is None:
            self._start()
        try:
            res = super().setup(tests)
        except KeepError:
            if self._tmp is not None:
                raise
            self.close_link()  # a kept flash in a state this setup cannot use: start afresh
            self.pico.stop()
            shutil.rmtree(self._flash_dir(), ignore_errors=True)
            self._start()
            res = super().setup(tests)
        self.setup_s = time.monotonic() - t0
        return res

    def run(self, path):
        if self.pico is not None and not self.pico.running:
            self._restart()
        res = super().run(path)
        if res.returncode == -1 and self.pico is not None and not self.pico.running:
            res.output += "\n" + self.pico.stopped_message()
            if self.pico.error:
                res.output += f"; its last word: {self.pico.error}"
            self._restart()
        return res

    def _restart(self):
        super().close()
        self.pico.stop()
        self.restarts += 1
        self._start()

    def close(self):
        super().close()
        self.pico = shut(self.pico, "stop")
        self._lock = shut(self._lock)
        self._tmp = shut(self._tmp, "cleanup")
