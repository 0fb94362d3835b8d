"""The chaos demo: deploy the chaos app to a fresh virtual board and watch it.

Operations layer behind `keep demo` (commands/demo.py is the CLI):

    result = run_demo(seconds=30, out=print)     # DemoResult with the board's numbers

It takes the same path as a user with a board would:

1. a fresh virtual board with an empty flash: the unix port
   (boards/unix.toml: its heap, its simulated flash), or with
   board="rpi_pico" the official rp2 firmware on an emulated RP2040
   (keep_host.vboard.pico; its seconds are board seconds);
2. `keep deploy` (keep_host.deploy.deploy): the manifest checked and
   compiled, the firmware and app compiled to .mpy, copied, and a soft
   reset into firmware/main.py -> runtime.boot.start(): the app table booted,
   the console channel started, the trace drained to the console;
3. the console watched with the monitor's decoder (keep_host.trace:
   Decoder + BoardState, the `keep monitor` code), for `seconds`.

Every number in the summary comes from the board: requests, served,
errors and lost from the chaos client's own last `chaos: ...` log line;
restarts and faults from the kernel's trace records; the heap peak from
the TR_HEAP records runtime.boot writes (live heap after a collection).
"""

import re
import tempfile
import time
from dataclasses import dataclass, field

from .errors import KeepError

from .trace import BoardState, Decoder

_CHAOS = re.compile(r"chaos: ((?:\w+=\d+ ?)+)")
# The goal for the kernel, supervisor, three servers and the chaos
# app (docs/servers.md, "RAM"): run in a 64 KB heap (`keep demo --heap 64K`
# does); the summary compares the live peak with it. The heap the board
# runs with is boards/unix.toml's unless --heap says otherwise.
GOAL_HEAP = 65536
CONSOLE_TASK = "console"  # runtime.boot adds the console channel's proxy after the app's tasks


@dataclass
class DemoResult:
    seconds: float = 0.0
    chaos: dict = field(default_factory=dict)  # the client's last report line
    restarts: dict = field(default_factory=dict)  # task name -> restart records
    faults: dict = field(default_factory=dict)  # task name -> fault records
    heap_peak: int | None = None
    heap: str = ""
    heap_from: str = "boards/unix.toml"  # or "--heap"
    deployed: str = ""  # the deploy's summary line
    frames_ok: int = 0
    frames_lost: int = 0
    frames_corrupt: int = 0
    records_dropped: int = 0  # trace records the board's ring had no room for
    events: int = 0
    switches: int = 0
    frame_bytes: int = 0  # console bytes that were trace frames
    records: int = 0  # trace records in those frames

    @property
    def trace_bytes_per_event(self):
        """Console bytes per decoded trace event (what the monitor shows:
        a log line is one event, a send the server took at once is a send
        and a recv)."""
        return self.frame_bytes / self.events if self.events else 0.0

    @property
    def trace_bytes_per_record(self):
        """Console bytes per trace record on the wire."""
        return self.frame_bytes / self.records if self.records else 0.0

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
            verdict = "met" if self.heap_peak <= GOAL_HEAP else "not met yet"
            lines.append(f"  heap peak (live)      {self.heap_peak} bytes of a {self.heap} heap "
                         f"({self.heap_from}); the {GOAL_HEAP // 1024} KB goal is {verdict}")
        if self.events:
            lines.append(f"  trace on the wire     {self.trace_bytes_per_event:.2f} bytes per event, "
                         f"{self.trace_bytes_per_record:.2f} per record "
                         f"({self.frame_bytes} bytes in frames)")
        lines.append(f"  trace                 {self.events} events, {self.switches} task switches, "
                     f"frames ok {self.frames_ok} lost {self.frames_lost} "
                     f"corrupt {self.frames_corrupt}, records dropped on board {self.records_dropped}")
        lines.append(f"demo_peak_heap_bytes={self.heap_peak if self.heap_peak is not None else ''}")
        return lines


# The stock apps are written for the unix board's rig; on another board the
# manifest is compiled with that board's own [test_wiring] (wiring overlay).
RIG = "board"


def task_names(app, board, monolithic=False, wiring=RIG):
    """{slot: name} as runtime.boot lays the tasks out: the table's rows, then
    the console proxy."""
    from .manifest import check_app

    ns = {}
    exec(check_app(app, board=board, wiring=wiring).table(monolithic), ns)  # a module of plain literals
    names = {slot: t[0] for slot, t in enumerate(ns["TASKS"])}
    names[len(names)] = CONSOLE_TASK
    return names


class _Watcher:
    """Feeds console bytes to the monitor's decoder; keeps what the summary needs."""

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
            if item.text.strip():
                self.out(f"  console | {item.text.rstrip()}")
            return
        res.events += 1
        k = item.kind
        if k == "switch":
            res.switches += 1
            self._sw[item.task] = self._sw.get(item.task, 0) + 1
        elif k == "heap":
            res.heap_peak = max(res.heap_peak or 0, item.fields["bytes"])
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
        elif self.verbose:
            from .trace.view import plain_line

            self.out("  " + plain_line(item, self.board))

    def switch_report(self):
        """Task switches per task since the last report (then reset)."""
        sw, self._sw = self._sw, {}
        return ", ".join(f"{k} {v}" for k, v in sorted(sw.items(), key=lambda kv: -kv[1]))


def _boot_output(data):
    """The console from the last soft reboot on (the deploy's raw-REPL
    exchange before it is not the app's)."""
    i = data.rfind(b"soft reboot")
    return data[i:] if i >= 0 else data


def run_demo(seconds=30.0, app="chaos", board="unix", heap=None, flash_dir=None,
             out=print, verbose=False, live=False, romfs=True, record=None, monolithic=False,
             firmware=None):
    """Deploy `app` to a fresh virtual board, watch it for `seconds`; returns DemoResult.

    heap None: the board file's memory.heap_bytes. romfs: deploy with
    --romfs (modules run from the board's ROMFS partition, not the heap).
    record: a binary file that gets the console bytes the monitor decoded,
    from the app's boot on (what `keep monitor --record` writes), for
    `keep trace export` and `keep monitor --replay`. monolithic: deploy
    the build without isolation (keep deploy --monolithic, docs/tradeoff.md).
    firmware: a UF2 with the app frozen in (keep build --image, emulated
    Pico only): nothing is deployed, the board is reset and boots it.
    Ctrl-C ends the run early; the summary is still made from what arrived.
    """
    from .boardtime import WallClock
    from .deploy import deploy
    from .vboard import open_virtual

    names = task_names(app, board, monolithic)
    if board != "unix":
        romfs = False  # only the unix board has a ROMFS partition (boards/*.toml memory.romfs_bytes)
    with tempfile.TemporaryDirectory(prefix="keep-demo-") as tmp:
        vb = open_virtual(board, flash_dir or tmp, heap=heap, firmware=firmware)
        vb.start()
        clock = getattr(vb, "clock", None) or WallClock()
        w = _Watcher(names, out, verbose)
        try:
            if firmware is not None:
                mark = vb.mark()
                vb.reset()  # the frozen main.py starts the kernel
                w.res.deployed = f"{app} frozen in {firmware} (nothing deployed)"
            else:
                out(f"keep demo: virtual board {board} up at {vb.url} ({vb.heap} heap); "
                    f"deploying {app} with keep deploy{' --romfs' if romfs else ''}"
                    f"{' --monolithic' if monolithic else ''} ...")
                mark = vb.mark()
                r = deploy(vb.url, app, board, romfs=romfs, monolithic=monolithic, wiring=RIG)
                w.res.deployed = r.summary()
            out(f"keep demo: {w.res.deployed}")
            out(f"keep demo: running {seconds:g} s{' of board time' if clock.kind != 'wall' else ''} "
                "(Ctrl-C ends it)")
            t0 = clock.now()
            first = True
            live_ctx = None
            try:
                if live:
                    from rich.live import Live

                    from .trace.view import render

                    live_ctx = Live(render(w.board, title="keep demo"), refresh_per_second=4)
                    live_ctx.__enter__()
                    w.out = lambda s: None
                next_report = t0 + 2.0
                while clock.now() - t0 < seconds:
                    time.sleep(0.1)
                    new = vb.output_since(mark)
                    mark += len(new)
                    if first and new:
                        new = _boot_output(new)
                        first = False
                    if new:
                        if record is not None:
                            record.write(new)
                        w.feed(new)
                    if live_ctx is not None:
                        live_ctx.update(render(w.board, title="keep demo"))
                    elif clock.now() >= next_report:
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
                    if record is not None:
                        record.write(new)
                    w.feed(new)
                w.finish()
            res = w.res
            res.seconds = clock.now() - t0
        finally:
            vb.stop()
        res.heap = vb.heap
        res.heap_from = "--heap" if heap else f"boards/{board}.toml"
        c = w.dec.counters
        res.frames_ok = c.frames_ok
        res.frames_lost = c.frames_lost
        res.frames_corrupt = c.frames_corrupt
        res.records_dropped = c.records_dropped
        res.frame_bytes = c.frame_bytes
        res.records = c.records
        return res


__all__ = ["run_demo", "DemoResult", "task_names"]
