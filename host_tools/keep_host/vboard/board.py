"""VirtualBoard: the unix port made to look like a board on a serial port.

One pump thread moves bytes between the host endpoint (TCP socket or pty)
and the current MicroPython process, and plays the board's reset logic:

  boot      fresh process; boot.py, main.py (skipped after a raw-REPL reset
            or in safe boot); REPL. Host input is held until the boot code
            says READY, so an early Ctrl-C cannot kill a half-started
            interpreter (it is delivered, as a signal, right after READY).
  soft reset the process exits (Ctrl-D, sys.exit(), machine.soft_reset()):
            print "MPY: soft reboot" and boot again; if the process was in
            the raw REPL, boot straight back into the raw REPL, as a board
            does and as mpremote expects.
  crash     the process dies of a signal or never gets to READY: report it,
            count it, boot again (as a watchdog reset would).
  safe boot SAFEBOOT in the flash dir, reset(safe=True), or a Ctrl-C flood
            (SAFE_FLOOD or more 0x03 bytes while booting or in the first
            SAFE_WINDOW_S after READY): main.py is skipped.
  Ctrl-C    while the port runs code (it catches SIGINT then), a 0x03 from
            the host becomes SIGINT - KeyboardInterrupt, as a board's UART
            raises it; otherwise it is a byte for the REPL, as on a board.
  lines     LF out becomes CR LF, CR LF in becomes CR while the REPL reads
            (lineio.py): the unix port differs from a board in both.
  back-pressure  while a client is connected, the process's output is not
            read once BACKLOG_MAX bytes wait for the client: print() blocks
            instead of anything being lost (endpoints.py).

Invariants:
- Only the pump thread touches the process, the endpoint and the filters;
  other threads talk to it through a queue and a wake-up pipe.
- Every byte the board prints (CR LF added) lands in the console tap before
  link faults are applied; faults only damage what the host receives.
- At most one MicroPython process exists per board; stop() leaves none.
"""

import os
import queue
import re
import select
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

from .. import unixport
from ..errors import KeepError
from ..transport import shut
from . import bootcode, markers
from .endpoints import PtyEndpoint, SocketEndpoint
from .faults import LinkFaults
from .lineio import CookedOutput, ReplInput
from .process import UnixProcess, micropython_argv
from .tap import BoardTimeout, ConsoleTap

SOFT_REBOOT = b"MPY: soft reboot\r\n"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = b'Type "help()" for more information.'
# The unix port's banner + prompt, printed before it sees our Ctrl-A on a
# raw-REPL reboot; a board prints no banner there, so it is cut out.
_BANNER_RE = re.compile(rb"MicroPython [^\n]*\n[^\n]*help\(\)[^\n]*\n>>> (\r\n)?")
SAFE_FLOOD = 3
SAFE_WINDOW_S = 0.5
BOOT_TIMEOUT_S = 10.0
# Output waiting for a slow client before the process is made to wait: a
# USB CDC link buffers a few KB, and the pty/TCP buffers hold more.
BACKLOG_MAX = 16 << 10
# A second SIGINT while the first KeyboardInterrupt is still pending makes
# the unix port exit (its sighandler: "die straight away"); a board just
# raises once. A Ctrl-C while the last SIGINT may still be on its way (the
# kernel holds it, or it was sent less than this long ago) joins that one.
SIGINT_GAP_S = 0.05


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def sim_nor_spec(board):
    """KEEP_SIM_NOR for hal.sim from the board file's test_wiring.spi_flash
    (bus, cs; size from the JEDEC capacity byte): the board file is the one
    place that says where the simulated flash sits."""
    from ..boards import load_board

    sf = load_board(board).test_wiring.spi_flash
    if not sf:
        return "none"
    size = 1 << (sf.get("jedec_id", 0x10) & 0xFF)
    return f"{sf['bus']}:{sf['cs']}:{size}:sim_nor0.bin"


def heap_bytes(spec):
    """A heap size as bytes: 196608, "192K" or "1M" (KeepError otherwise)."""
    s = str(spec).strip().upper()
    mult = {"K": 1024, "M": 1 << 20}.get(s[-1:], 1)
    digits = s[:-1] if mult > 1 else s
    if not digits.isdigit() or int(digits) == 0:
        raise KeepError(f"heap {spec!r}: give bytes or a number with K or M, e.g. 192K")
    return int(digits) * mult


def heapsize(n):
    """n bytes as a `-X heapsize=` value ("192K" when it is whole KB)."""
    return f"{n // 1024}K" if n % 1024 == 0 else str(n)


class Lifecycle:
    """A virtual board as a context manager (start .. stop), and the
    temporary flash directory it made when given none."""

    _tmp = None  # tempfile.TemporaryDirectory, or None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _flash(self, flash_dir, prefix):
        """The flash directory: flash_dir, or a temporary one (gone at stop())."""
        if flash_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
            flash_dir = self._tmp.name
        return Path(flash_dir).resolve()

    def _drop_tmp(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class VirtualBoard(Lifecycle):
    def __init__(self, flash_dir=None, *, board="unix", heap=None,
                 listen="127.0.0.1:0", pty=False, link_faults=None, seed=0,
                 root_fs=True, env=None, on_event=None, crlf=True):
        if board != "unix":
            raise KeepError(f"unknown virtual board {board!r}: only 'unix' exists")
        self.board = board
        from ..boards import load_board

        b = load_board(board)
        # The firmware's heap (None: the board file's memory.heap_bytes); the
        # process gets the ROMFS partition on top when one is mapped (_boot).
        self._heap_bytes = heap_bytes(heap) if heap else b.heap_bytes
        self.heap = heapsize(self._heap_bytes)
        self.romfs_bytes = b.romfs_bytes
        self.sim_devices_bytes = b.sim_devices_bytes
        self.flash_dir = self._flash(flash_dir, "keep-vboard-")
        self._listen = listen
        self._use_pty = pty
        self.root_fs = root_fs
        self._extra_env = dict(env or {})
        self.on_event = on_event
        self.faults = (link_faults if isinstance(link_faults, LinkFaults)
                       else LinkFaults.from_spec(link_faults, seed))
        self.sim_ctl_port = None
        self.endpoint = None
        self.events = []          # (monotonic time, kind, message)
        self.boots = 0
        self.soft_reboots = 0
        self.crashes = 0
        self.safe_boots = 0
        self.error = None         # exception that stopped the pump, if any
        self._proc = None
        self._queue = queue.Queue()
        self._wake_r = self._wake_w = None
        self._thread = None
        self._stopping = False
        self.tap = ConsoleTap()  # everything it printed, for mark/output_since/wait_output
        # crlf=False: LF as the port prints it, for binary protocols over the
        # console (mpremote mount's file writes): on this port print() and
        # sys.stdout.buffer reach the pty alike, unlike on a board.
        self._cooked = CookedOutput() if crlf else None
        self._ready = threading.Event()
        self._reset_state()

    # ---- life cycle -------------------------------------------------------

    def start(self, timeout=BOOT_TIMEOUT_S):
        if self.flash_dir.exists() and not self.flash_dir.is_dir():
            raise KeepError(f"flash dir {self.flash_dir} is not a directory")
        try:
            self.flash_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise KeepError(f"cannot create flash dir {self.flash_dir}: {err.strerror or err}")
        unixport.micropython_exe()  # fail early, with the setup hint
        self.endpoint = PtyEndpoint() if self._use_pty else SocketEndpoint(self._listen)
        self.sim_ctl_port = free_port()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._boot(announce=False)
        self._thread = threading.Thread(target=self._pump, name="vboard-pump", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            tail = self.output_since(max(0, self.mark() - 400)).decode(errors="replace")
            self.stop()
            raise KeepError(f"the unix port did not boot within {timeout:g}s: {tail.strip()!r}")
        return self

    def stop(self):
        """Stop the pump and the MicroPython process; idempotent."""
        if self._thread is not None and self._thread.is_alive():
            self._send(("stop",))
            self._thread.join(timeout=10)
        self._thread = None
        self._proc = shut(self._proc)
        if self.endpoint is not None:
            self.endpoint.close()
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._wake_r = self._wake_w = None
        self._drop_tmp()

    @property
    def url(self):
        return self.endpoint.url if self.endpoint else None

    @property
    def dropped(self):
        """Console output dropped because no client was connected."""
        return self.endpoint.dropped if self.endpoint else 0

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    # ---- control from other threads ----------------------------------------

    def reset(self, safe=False, wait=True, timeout=BOOT_TIMEOUT_S):
        """Hard reset (like the reset button): a fresh process, main.py runs
        unless safe. With wait, returns once the new process is READY."""
        self._ready.clear()
        self._send(("reset", safe))
        if wait and not self._ready.wait(timeout):
            raise BoardTimeout(f"board did not come back from reset within {timeout:g}s")

    def write(self, data):
        """Send bytes to the board's console as if the host had typed them."""
        self._send(("input", bytes(data)))

    def set_link_faults(self, spec=None, seed=0, **rates):
        """Change link faults at run time: a spec string, or drop=/flip=/dup=."""
        faults = LinkFaults(seed=seed, **rates) if rates else LinkFaults.from_spec(spec, seed)
        self._send(("faults", faults))
        return faults

    def _send(self, item):
        self._queue.put(item)
        if self._wake_w is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    # ---- console tap ---------------------------------------------------------

    def mark(self):
        """Absolute console position now (use with output_since/wait_output)."""
        return self.tap.mark()

    @property
    def console(self):
        """Everything the board printed (the retained tail), before faults."""
        return self.tap.text

    def output_since(self, mark):
        return self.tap.since(mark)

    def wait_output(self, pattern, timeout=10.0, since=None):
        """Wait until the console (from `since`, default: the start) matches
        pattern (bytes, str or compiled bytes regex). Returns the absolute
        position just after the match."""
        return self.tap.wait_output(pattern, timeout, since,
                                    alive=lambda: self.running or self._thread is None)

    # ---- the pump (only this thread touches process and endpoint) -----------

    def _reset_state(self):
        self._booting = False
        self._raw_boot = False
        self._strip = None        # bytearray while cutting the banner on a raw boot
        self._in_raw = False
        self._held = bytearray()  # host input not yet given to the process
        self._wbuf = bytearray()  # input prepared for the process (lineio, Ctrl-C done)
        self._repl_in = ReplInput()
        self._sigint_at = 0.0
        self._flood = 0
        self._window_end = 0.0
        self._scanner = markers.MarkerScanner()
        self._expected_exit = False
        self._reboot_times = []

    def _event(self, kind, message):
        self.events.append((time.monotonic(), kind, message))
        if self.on_event:
            try:
                self.on_event(kind, message)
            except Exception:
                pass

    def _boot(self, raw=False, safe=False, announce=True):
        """Replace the process with a fresh one (pump thread, or before it)."""
        if self._proc is not None:
            self._expected_exit = True
            self._proc.close()
            self._proc = None
        now = time.monotonic()
        self._reboot_times = [t for t in self._reboot_times if now - t < 2.0] + [now]
        if len(self._reboot_times) > 10:
            time.sleep(0.2)  # a reset loop: don't spin the host CPU
        if announce:
            self._emit(SOFT_REBOOT)
        safe_file = (self.flash_dir / "SAFEBOOT").exists()
        safe = safe or safe_file
        if safe and not raw:
            self.safe_boots += 1
            why = "SAFEBOOT file" if safe_file else "safe-boot request"
            self._event("safe-boot", f"safe boot ({why}): main.py skipped")
        note = "keep vboard: safe boot, main.py skipped" if safe and not raw else ""
        romfs, problem = self._romfs_mapping()
        note = "\n".join(n for n in (note, problem) if n)
        code = bootcode.boot_code(self.flash_dir, run_main=not (raw or safe),
                                  root=self.root_fs, note=note, romfs=romfs)
        env = dict(os.environ)
        env.update(self._extra_env)
        env["KEEP_BOARD"] = self.board
        env["KEEP_SIM_CTL_PORT"] = str(self.sim_ctl_port)
        env["KEEP_SIM_ROMFS_BYTES"] = str(romfs)  # hal.sim.heap_reserved()
        env["KEEP_SIM_DEVICES_BYTES"] = str(self.sim_devices_bytes)  # ... and this
        env.setdefault("KEEP_SIM_NOR", sim_nor_spec(self.board))
        # With the flash mounted at / the boot code sets a board's sys.path;
        # the port interns every MICROPYPATH entry, so give it only ".frozen".
        env["MICROPYPATH"] = unixport.micropypath(
            [".frozen"] if self.root_fs else [".frozen", self.flash_dir, self.flash_dir / "lib"])
        self._scanner = markers.MarkerScanner()
        # Input prepared for the old process is prepared again for this one.
        self._held[:0] = self._wbuf
        self._wbuf.clear()
        self._booting = True
        self._raw_boot = raw
        self._strip = bytearray() if raw else None
        self._in_raw = False
        self._flood = 0
        self._window_end = float("inf")
        self._expected_exit = False
        self._ready.clear()
        self.boots += 1
        self._proc = UnixProcess(micropython_argv(heapsize(self._heap_bytes + romfs + self.sim_devices_bytes), code), cwd=str(self.flash_dir),
                                 env=env, on_exit=self._on_exit)

    def _romfs_mapping(self):
        """(bytes of heap to map the ROMFS partition into, problem line).

        The partition is mapped only when the flash holds an image that fits
        it, so a board without one gets exactly its heap_bytes, as before."""
        img = self.flash_dir / bootcode.ROMFS_IMAGE
        if not self.romfs_bytes or not img.is_file():
            return 0, ""
        size = img.stat().st_size
        if size > self.romfs_bytes:
            return 0, (f"keep vboard: {bootcode.ROMFS_IMAGE} ({size} bytes) is larger than the "
                       f"ROMFS partition ({self.romfs_bytes} bytes), not mounted")
        return self.romfs_bytes, ""

    def _on_exit(self, proc):
        self._send(("exit", proc))

    def _pump(self):
        try:
            self._loop()
        except Exception as err:  # a bug: report it, don't leave a process behind
            self.error = err
            self._event("error", f"virtual board stopped: {err!r}")
        finally:
            if self._proc is not None:
                self._expected_exit = True
                self._proc.close()
                self._proc = None
            self.tap.wake()

    def _loop(self):
        while not self._stopping:
            proc = self._proc
            self.endpoint.refresh()
            rfds = [self._wake_r, *self.endpoint.read_fds()]
            wfds = self.endpoint.write_fds()
            if proc is not None:
                if self.endpoint.backlog() < BACKLOG_MAX:
                    rfds.append(proc.master)
                if self._has_input() and self._can_deliver():
                    wfds.append(proc.master)
            r, w, _ = select.select(rfds, wfds, [], self.endpoint.idle_timeout)
            if proc is not None and proc.master in r:
                self._on_board_output(proc.read())
            for obj in r:
                if obj is self._wake_r:
                    self._drain_queue()
                elif proc is None or obj is not proc.master:
                    data = self.endpoint.on_readable(obj)
                    if data:
                        self._on_host_input(data)
            self.endpoint.flush()
            if self._has_input() and self._can_deliver():
                self._deliver()

    def _drain_queue(self):
        try:
            while os.read(self._wake_r, 4096):
                pass
        except OSError:
            pass
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            kind = item[0]
            if kind == "stop":
                self._stopping = True
            elif kind == "input":
                self._on_host_input(item[1])
            elif kind == "faults":
                self.faults = item[1]
            elif kind == "reset":
                self._held.clear()
                self._wbuf.clear()
                self._boot(safe=item[1], announce=False)
            elif kind == "exit" and item[1] is self._proc:
                self._on_process_exit(item[1])

    def _on_process_exit(self, proc):
        self._on_board_output(proc.read())
        tail = self._scanner.flush()
        if tail:
            self._emit(tail)
        if self._expected_exit:
            return
        rc = proc.returncode
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            self.crashes += 1
            self._event("crash", f"unix port crashed ({name}); restarting")
            self._boot(announce=False)
        elif self._booting:
            self.crashes += 1
            self._event("crash", f"unix port exited during boot (exit code {rc}); restarting")
            self._boot(announce=False)
        else:
            self.soft_reboots += 1
            self._boot(raw=self._in_raw)

    # ---- bytes from the board -------------------------------------------------

    def _on_board_output(self, data):
        if not data:
            return
        clean, found = self._scanner.feed(data)
        if clean:
            self._emit(clean)
        for name in found:
            if name == "ready" and self._booting:
                self._booting = False
                self._window_end = time.monotonic() + SAFE_WINDOW_S
                if self._raw_boot:
                    self._proc.write(b"\x01")
                else:
                    self._ready.set()
            elif name == "reset":
                self.soft_reboots += 1
                self._boot()

    def _emit(self, data):
        if self._strip is not None:
            self._strip += data
            i = self._strip.find(RAW_BANNER)
            if i < 0 and len(self._strip) < 65536:
                return
            data = bytes(self._strip)
            self._strip = None
            if i >= 0:
                data = _BANNER_RE.sub(b"", data[:i], count=1) + data[i:]
            self._ready.set()
        if self._cooked is not None:
            data = self._cooked.feed(data)
        self.tap.feed(data)  # only this (the pump) thread feeds it
        look = self.tap.since(self.tap.mark() - len(data) - len(RAW_BANNER))
        # Which REPL is the process in? Decides how a soft reset comes back.
        raw_at = look.rfind(RAW_BANNER)
        friendly_at = look.rfind(FRIENDLY_BANNER)
        if raw_at >= 0 or friendly_at >= 0:
            self._in_raw = raw_at > friendly_at
        self.endpoint.write(self.faults.apply(data) if self.faults.active else data)

    # ---- bytes from the host ------------------------------------------------

    def _can_deliver(self):
        return self._proc is not None and not self._booting and self._strip is None

    def _on_host_input(self, data):
        if not self._raw_boot and time.monotonic() < self._window_end:
            self._flood += data.count(3)
            if self._flood >= SAFE_FLOOD:
                self._event("safe-boot", "Ctrl-C flood during boot: safe boot requested")
                self._held.clear()
                self._wbuf.clear()
                self._boot(safe=True)
                return
        self._held += data
        if self._can_deliver():
            self._deliver()

    def _has_input(self):
        return bool(self._held or self._wbuf)

    def _deliver(self):
        proc = self._proc
        if not self._wbuf:
            chunk = bytes(self._held[:4096])
            del self._held[:4096]
            self._wbuf += self._prepare(proc, chunk)
        n = proc.write(bytes(self._wbuf))
        del self._wbuf[:n]

    def _prepare(self, proc, chunk):
        """Host bytes as the process should get them: each Ctrl-C a SIGINT
        while it runs code (else a byte), CR LF as CR while the REPL reads."""
        out = bytearray()
        for i, part in enumerate(chunk.split(b"\x03")):
            if i:
                caught, pending = proc.sigint_state()
                if not caught:
                    out += b"\x03"
                elif not pending and time.monotonic() - self._sigint_at >= SIGINT_GAP_S:
                    proc.interrupt()
                    self._sigint_at = time.monotonic()
            out += self._repl_in.feed(part, proc.repl_reading())
        return out
