"""The emulated Raspberry Pi Pico: the official MicroPython rp2 firmware on
rp2040js (emu/rp2040), run as a virtual board. See docs/vboard.md.

    with EmulatedPico(flash_dir) as pico:
        pico.url            # socket://127.0.0.1:PORT: the USB serial console
        pico.sim_ctl_port   # the control channel (keep_host.simctl.SimControl)
        pico.clock.now()    # board seconds (the emulated 125 MHz clock)
        pico.wait_output(">>> ", 10)   # 10 s of board time

Nothing on the board is simulated in Python: hal/rp2 drives the chip's real
peripherals, and the emulator models the Pico test rig's wiring around it
(the board file's [test_wiring]: a GPIO jumper, UART1 looped back, a
W25Q32 on SPI0). The flash (firmware + filesystem) lives in
FLASH_DIR/pico_flash.bin and the rig's NOR in FLASH_DIR/pico_nor.bin, so
both survive a restart of the emulator.

Invariants:
- The runner is a child whose stdin is our pipe: if this process dies, the
  runner sees EOF and stops, so no emulator outlives its owner.
- Every wait is in board time (keep_host.boardtime), never a wall-clock
  figure that only holds on a fast, idle PC.
"""

import json
import shutil
import socket
import subprocess
import threading
from pathlib import Path

from ..boardtime import Deadline, EmulatorClock
from ..errors import KeepError
from ..paths import ROOT
from . import registry
from ..runtime import end_child
from .board import Lifecycle
from .tap import BoardTimeout, ConsoleTap

EMU_DIR = ROOT / "emu" / "rp2040"
NODE_MODULES = ROOT / "node_modules"
FLASH_FILE = "pico_flash.bin"
NOR_FILE = "pico_nor.bin"
# The emulator's speed against a real Pico that wall-clock safety nets (a
# HIL test's hard timeout) assume: 0.17-0.26 was measured on an idle 2-core
# machine, and a loaded one is slower still. Waits that matter are counted
# in board time instead (keep_host.boardtime).
DECLARED_SPEED = 0.1
START_TIMEOUT_S = 60.0  # wall: Node starting and loading the image, before board time exists
BOOT_TIMEOUT_S = 10.0   # board seconds from power-on to the REPL (0.3-0.7 s measured)


def node_or_none():
    return shutil.which("node")


def check_node():
    """Node and the pinned rp2040js are installed; one clear line otherwise."""
    node = node_or_none()
    if node is None:
        raise KeepError("the emulated Pico needs Node.js 18 or newer, and `node` is not on PATH "
                        "(install Node.js, then run make setup)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    major = int(out.lstrip("v").split(".")[0] or 0) if out.startswith("v") else 0
    if major < 18:
        raise KeepError(f"the emulated Pico needs Node.js 18 or newer; `node` is {out or 'unknown'}")
    if not (NODE_MODULES / "rp2040js" / "package.json").exists():
        raise KeepError(f"rp2040js is not installed in {NODE_MODULES}: run make setup "
                        "(npm ci, from package-lock.json)")
    return node


def firmware_files():
    """The vendored UF2 and boot ROM, checked against their sha256."""
    from ..emu import firmware

    return firmware.uf2(), firmware.bootrom()


def wiring_for(board):
    """The board file's [test_wiring] as the runner's JSON."""
    w = board.test_wiring
    spec = {"gpio_loop": [list(p) for p in w.gpio_loop], "uart_loop": list(w.uart_loop)}
    if w.spi_flash:
        spec["spi_flash"] = {"bus": w.spi_flash["bus"], "cs": w.spi_flash["cs"],
                             "jedec_id": w.spi_flash["jedec_id"]}
    return spec


class EmulatedPico(Lifecycle):
    kind = "emulator"

    def __init__(self, flash_dir=None, *, board="rpi_pico", listen="127.0.0.1:0", heap=None,
                 on_event=None, firmware=None):
        from ..boards import load_board

        self.board = board
        self._board = load_board(board)
        if heap is not None:
            raise KeepError(f"--heap: the emulated {board}'s heap is its firmware's "
                            f"({self._board.heap_bytes} bytes); it cannot be changed")
        self.heap = str(self._board.heap_bytes)
        # firmware: a UF2 of our own (keep build --image: the app frozen in)
        # instead of the vendored one; checked here, not when the emulator fails.
        self.firmware = None if firmware is None else Path(firmware).resolve()
        if self.firmware is not None and not self.firmware.is_file():
            raise KeepError(f"--firmware {firmware}: no such file")
        self.flash_dir = self._flash(flash_dir, "keep-pico-")
        self._listen = listen
        self.on_event = on_event
        self._proc = None
        self._reader = None
        self.tap = ConsoleTap()
        self.url = None
        self.sim_ctl_port = None
        self.clock = None
        self.error = None
        self.faults = _NoLinkFaults()
        self._dropped = 0

    # ---- life --------------------------------------------------------------------
    def start(self, timeout=BOOT_TIMEOUT_S):
        node = check_node()
        uf2, bootrom = firmware_files()
        uf2 = self.firmware or uf2
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        argv = [node, str(EMU_DIR / "runner.mjs"), "--uf2", str(uf2), "--bootrom", str(bootrom),
                "--flash", str(self.flash_dir / FLASH_FILE), "--nor", str(self.flash_dir / NOR_FILE),
                "--listen", self._listen, "--wiring", json.dumps(wiring_for(self._board))]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, cwd=str(EMU_DIR))
        ports = self._read_ports()
        self.url = f"socket://127.0.0.1:{ports['console']}"
        self.sim_ctl_port = ports["ctl"]
        self.clock = EmulatorClock(self.sim_ctl_port)
        tap = socket.create_connection(("127.0.0.1", ports["tap"]))
        self._reader = threading.Thread(target=self._read_tap, args=(tap,), name="pico-tap",
                                        daemon=True)
        self._reader.start()
        registry.register(self.url, board=self.board, kind=self.kind, clock="emulated",
                          speed=DECLARED_SPEED, ctl_port=self.sim_ctl_port,
                          flash=str(self.flash_dir))
        self.wait_usb(timeout)
        return self

    def _read_ports(self):
        # A thread reads the first line, so a runner that hangs cannot hang us.
        got = {}

        def read():
            got["line"] = self._proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
        line = got.get("line", b"")
        if not line:
            err = b""
            if "line" in got or self._gone():  # EOF: the runner exited (or is exiting)
                err = self._proc.stderr.read()
            self.stop()
            msg = err.decode(errors="replace").strip().splitlines()
            raise KeepError("the Pico emulator did not start: " + (
                msg[-1] if msg else "it exited without a word" if "line" in got
                else f"no answer within {START_TIMEOUT_S:g} s"))
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        return json.loads(line)

    def _drain_stderr(self):
        # The runner's own complaints (and rp2040js's errors) go to our stderr,
        # minus the two harmless SIO reads every soft reset makes.
        for line in self._proc.stderr:
            text = line.decode(errors="replace").rstrip()
            if "Read from invalid SIO address" in text:
                continue
            self.error = text
            if self.on_event:
                self.on_event("emulator", text)

    def _read_tap(self, sock):
        with sock:
            while True:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                self.tap.feed(data)
        self.tap.wake()

    def wait_usb(self, timeout=BOOT_TIMEOUT_S):
        """Wait until the chip's USB serial is enumerated (its REPL is up)."""
        from ..simctl import SimControl

        deadline = Deadline(timeout, self.clock)
        with SimControl("127.0.0.1", self.sim_ctl_port) as ctl:
            while not deadline.expired():
                if ctl.call("console").get("usb"):
                    return
                if not self.running:
                    break
                ctl.pump(0.02)
        raise KeepError(f"the emulated Pico's USB serial did not come up within {timeout:g} s "
                        f"of board time{'; the emulator stopped' if not self.running else ''}")

    @property
    def dropped(self):
        """Console bytes the board printed while no host was connected (the
        runner's count; the last one seen once it has stopped)."""
        if self.running:
            from ..simctl import SimControl

            try:
                with SimControl("127.0.0.1", self.sim_ctl_port, reconnect_timeout=2) as ctl:
                    self._dropped = ctl.call("console")["dropped_no_host"]
            except KeepError:
                pass
        return self._dropped

    def stop(self):
        if self._proc is not None:
            self.dropped  # noqa: B018 (read the runner's count while it still answers)
            if self.url:
                registry.unregister(self.url)
            end_child(self._proc, 10)  # the runner stops (and saves the flash) on EOF
            self._proc = None
        if self.clock is not None:
            self.clock.close()
        self._drop_tmp()

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    # ---- board -------------------------------------------------------------------
    def reset(self, safe=False, wait=True, timeout=BOOT_TIMEOUT_S):
        """A chip reset (the RUN pin), flash kept. Safe boot on a Pico is a
        SAFEBOOT file in its filesystem (docs/boards.md), not a reset mode."""
        if safe:
            raise KeepError("the Pico has no safe-boot reset: create :SAFEBOOT "
                            "(mpremote fs touch :SAFEBOOT) and reset")
        from ..simctl import SimControl

        with SimControl("127.0.0.1", self.sim_ctl_port) as ctl:
            ctl.call("reset")
        if wait:
            self.wait_usb(timeout)

    # ---- console tap ------------------------------------------------------------------
    def mark(self):
        return self.tap.mark()

    @property
    def console(self):
        return self.tap.text

    def output_since(self, mark):
        return self.tap.since(mark)

    def wait_output(self, pattern, timeout=10.0, since=None):
        """Wait (board seconds) for pattern on the console; see ConsoleTap."""
        try:
            if not self.running:
                raise KeepError("not running")
            return self.tap.wait_output(pattern, timeout, since, clock=self.clock,
                                        alive=lambda: self.running)
        except KeepError as err:
            if not (isinstance(err, BoardTimeout) and self.running) and self._gone():
                raise KeepError(self.stopped_message()) from None
            raise err

    def _gone(self, grace_s=2.0):
        """The runner has exited (waiting a moment for one that is dying)."""
        if self._proc is None:
            return True
        try:
            self._proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stopped_message(self):
        rc = self._proc.poll() if self._proc is not None else None
        why = f"exit status {rc}" if rc is not None and rc >= 0 else f"killed by signal {-rc}" \
            if rc is not None else "stopped"
        return f"the emulated Pico at {self.url} stopped: its emulator process is gone ({why})"


class _NoLinkFaults:
    """The emulated console link does not damage bytes (the unix board's does, on request)."""

    active = False
