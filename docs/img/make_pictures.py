"""The docs' pictures of the trace tools, made from a real run of the chaos demo.

    make pictures                                    # runs the demo for 10 s
    .venv/bin/python docs/img/make_pictures.py --from session.bin

1. Runs the chaos demo on the unix virtual board (`keep demo --seconds 10
   --record`), or takes a recording given with --from.
2. Exports it the way `keep trace export` does and draws:
   - chaos-timeline.png: the Perfetto export as Perfetto's timeline shows
     it - a track per task, slices, arrows, markers - around flaky's first
     crash: 60 ms, and a zoom on the crash itself;
   - chaos-monitor.svg: the monitor's view of the same run at its end
     (the `keep monitor` code: Decoder, BoardState, view.render; rich's
     Console(record=True).save_svg);
   - chaos-pins.png: the VCD export as a waveform.

The timeline is drawn here with matplotlib from the exported JSON, with
Perfetto's rules for where an arrow starts (the end of the sending slice)
and ends (the start of the receiving one). It is not a screenshot of
ui.perfetto.dev: that UI is a web app served from the network, and the
machines this project is built on reach package registries only (Debian's
headless Chromium installs, the UI's code does not load).
"""

import argparse
import io
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "host_tools"))
from keep_host.trace import BoardState, Decoder, export_perfetto, export_vcd  # noqa: E402
from keep_host.trace.view import render  # noqa: E402

TIMELINE, MONITOR, PINS = "chaos-timeline.png", "chaos-monitor.svg", "chaos-pins.png"
# Perfetto colours a slice by its name; a fixed colour per task reads the same.
COLOURS = ["#5c6bc0", "#26a69a", "#8d6e63", "#7e57c2", "#ef6c00", "#1e88e5", "#78909c"]
MARKS = {"fault": "#d32f2f", "restart": "#2e7d32", "log": "#616161", "timeout": "#9e9e9e"}
ARROWS = {"send": "#0d47a1", "reply": "#e65100"}


def record(path, seconds):
    """Run the chaos demo on the unix virtual board; its console goes to `path`."""
    from keep_host.demo import run_demo

    with open(path, "wb") as f:
        res = run_demo(seconds=seconds, record=f, out=lambda line: None)
    for line in res.summary_lines():
        print(line)


def decode(path):
    dec = Decoder()
    items = dec.feed(Path(path).read_bytes()) + dec.finish()
    return items, dec


# -- the timeline ------------------------------------------------------------------

class Trace:
    """The parts of a Perfetto export the timeline draws, by track."""

    def __init__(self, doc):
        evs = doc["traceEvents"]
        self.names = {e["tid"]: e["args"]["name"] for e in evs
                      if e["ph"] == "M" and e["name"] == "thread_name"}
        self.slices = [e for e in evs if e["ph"] == "X"]
        self.marks = [e for e in evs if e["ph"] == "i" and e.get("s") == "t"]
        by_start = {(e["tid"], e["ts"]): e for e in self.slices}
        starts = {e["id"]: e for e in evs if e["ph"] == "s"}
        # (name, label, from slice, to slice): the slices the flow events sit at
        self.arrows = [(f["name"], starts[f["id"]]["args"]["what"],
                        by_start[(starts[f["id"]]["tid"], starts[f["id"]]["ts"])],
                        by_start[(f["tid"], f["ts"])])
                       for f in evs if f["ph"] == "f"]
        # the tracks that have something to draw, as the UI leaves out empty ones
        used = {e["tid"] for e in self.slices + self.marks}
        self.tracks = sorted(t for t in self.names if t in used)


def _window(trace):
    """(overview, zoom) windows in µs around the first fault on a task, and its time."""
    fault = next((m for m in trace.marks if m["cat"] == "fault"), None)
    if fault is None:  # a calm run: its first 60 ms, and its first round trip
        t = trace.arrows[0][2]["ts"] if trace.arrows else 0
        return (t, t + 60_000), (t - 50, t + 400), t
    t = fault["ts"]
    # the zoom ends where the faulted task's answer (rc dead) reaches its client
    ends = [b["ts"] for name, _, a, b in trace.arrows
            if name == "reply" and a["tid"] == fault["tid"] and a["ts"] == t]
    end = ends[0] if ends else t + 1500
    return (t - 22_000, t + 38_000), (t - 0.08 * (end - t) - 40, end + 0.15 * (end - t) + 40), t


def _panel(ax, trace, lo, hi, detail):
    rows = {tid: i for i, tid in enumerate(trace.tracks)}
    span = hi - lo
    for e in trace.slices:
        a, b = e["ts"], e["ts"] + e["dur"]
        if b < lo or a > hi:
            continue
        y = rows[e["tid"]]
        w = max(b - a, span / 1500)  # a µs slice still shows, as in the UI
        ax.add_patch(Rectangle((a - lo, y - 0.32), w, 0.64, lw=0,
                               color=COLOURS[e["tid"] % len(COLOURS)]))
        if detail and (min(b, hi) - max(a, lo)) > span / 9:
            ax.text(max(a, lo) - lo + span / 300, y, e["name"], va="center", fontsize=7,
                    color="white", clip_on=True)
    for name, label, a, b in trace.arrows:
        x0 = a["ts"] + a["dur"] if a["ts"] < b["ts"] else a["ts"]  # Perfetto's rule
        x1 = b["ts"]
        if x1 < lo or x0 > hi:
            continue
        y0, y1 = rows[a["tid"]], rows[b["tid"]]
        y0 += 0.3 if y1 > y0 else -0.3
        y1 += -0.3 if y1 > y0 else 0.3
        ax.annotate("", xy=(x1 - lo, y1), xytext=(x0 - lo, y0),
                    arrowprops={"arrowstyle": "-|>", "color": ARROWS[name], "lw": 1.1,
                                "shrinkA": 0, "shrinkB": 0})
        if detail:
            ax.text((x0 + x1) / 2 - lo, (y0 + y1) / 2, f" {label}", fontsize=7,
                    color=ARROWS[name], va="center")
    stacked = {}  # (track, ts) -> labels already written there
    for m in trace.marks:
        if not lo <= m["ts"] <= hi:
            continue
        y = rows[m["tid"]]
        colour = MARKS.get(m["cat"], "#000000")
        ax.plot([m["ts"] - lo], [y - 0.42], marker="v", ms=6 if detail else 4, color=colour,
                zorder=3)
        if detail and m["cat"] in ("fault", "restart", "log"):
            k = stacked.setdefault((m["tid"], m["ts"]), [])
            text = m["name"] if len(m["name"]) <= 44 else m["name"][:43] + "…"
            ax.text(m["ts"] - lo, y - 0.52 - 0.24 * len(k), text, fontsize=6.5, color=colour,
                    va="bottom", ha="left")
            k.append(text)
    ax.set_xlim(0, span)
    ax.set_ylim(len(rows) - 0.4, -0.8)
    ax.set_yticks(range(len(rows)), [trace.names[t] for t in trace.tracks], fontsize=8)
    ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def timeline_png(doc, path):
    """Draw the Perfetto export around the first crash; returns the windows (µs)."""
    trace = Trace(doc)
    (lo, hi), (zlo, zhi), t_fault = _window(trace)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7.6), height_ratios=[1, 1.15])
    _panel(top, trace, lo, hi, detail=False)
    top.set_xticks(top.get_xticks(), [f"{(t + lo) / 1000:.0f}" for t in top.get_xticks()],
                   fontsize=8)
    top.set_xlim(0, hi - lo)
    top.set_xlabel("ms since the recording's first event", fontsize=8)
    top.axvspan(zlo - lo, zhi - lo, color="#fff59d", alpha=0.6, zorder=0)
    top.set_title("The chaos demo in the Perfetto export: 60 ms around flaky's first crash "
                  "(arrows: send blue, reply orange; markers: fault red, restart green)",
                  fontsize=9, loc="left")
    _panel(bottom, trace, zlo, zhi, detail=True)
    # the zoom's axis counts µs from the crash, on round numbers
    step = 200 if zhi - zlo > 1000 else 50
    ticks = range(int(zlo - t_fault) // step * step, int(zhi - t_fault) + 1, step)
    bottom.set_xticks([t + t_fault - zlo for t in ticks], [str(t) for t in ticks], fontsize=8)
    bottom.set_xlim(0, zhi - zlo)
    bottom.set_xlabel(f"µs from the crash, at {t_fault / 1000:.3f} ms (the yellow band above)",
                      fontsize=8)
    bottom.set_title("Zoom: chaos sends op 1, flaky crashes holding it, the kernel answers "
                     "rc dead, the supervisor schedules the restart", fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return (lo, hi), (zlo, zhi)


# -- the monitor and the pins -----------------------------------------------------

def monitor_svg(items, dec, path, width=146):
    """The monitor's view after the run, as rich draws it, saved as SVG."""
    from rich.console import Console

    board = BoardState({}, dec.counters)
    for it in items:
        board.apply(it)
    con = Console(record=True, width=width, file=io.StringIO())
    con.print(render(board, rows=6, title="keep monitor"))
    con.save_svg(str(path), title="keep monitor --port socket://127.0.0.1:…")
    return board


def read_vcd(text):
    """{wire name: [(t, level)]} and the timescale, from a VCD of 1-bit wires."""
    head, body = text.split("$enddefinitions $end")
    names = {}
    for line in head.splitlines():
        parts = line.split()
        if parts[:1] == ["$var"]:
            names[parts[3]] = parts[4]
    scale = head.split("$timescale")[1].split("$end")[0].strip()
    waves = {n: [] for n in names.values()}
    t = 0
    for line in body.split():
        if line.startswith("#"):
            t = int(line[1:])
        elif line[0] in "01xz" and line[1:] in names:
            waves[names[line[1:]]].append((t, line[0]))
    return waves, scale


def pins_png(vcd_text, path):
    """The VCD as a logic analyser shows it: one row per wire."""
    waves, scale = read_vcd(vcd_text)
    assert scale == "1 us", scale
    end = max((t for w in waves.values() for t, _ in w), default=0) + 200_000
    fig, axes = plt.subplots(len(waves), 1, figsize=(12, 0.9 + 1.0 * len(waves)), squeeze=False)
    for ax, (name, wave) in zip(axes[:, 0], sorted(waves.items()), strict=True):
        xs, ys = [], []
        for (t, v), nxt in zip(wave, wave[1:] + [(end, None)], strict=True):
            if v in "01":
                xs += [t / 1e6, nxt[0] / 1e6]
                ys += [int(v), int(v)]
            else:  # unknown until the first record: hatched, as in a waveform viewer
                ax.add_patch(Rectangle((t / 1e6, 0), (nxt[0] - t) / 1e6, 1, fill=False,
                                       hatch="///", color="#9e9e9e", lw=0))
        ax.plot(xs, ys, color="#2e7d32", lw=1.4, drawstyle="steps-post")
        ax.set_ylim(-0.3, 1.3)
        ax.set_yticks([0, 1], ["0", "1"], fontsize=8)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_xlim(0, end / 1e6)
        ax.grid(axis="x", color="#e0e0e0", lw=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[-1, 0].set_xlabel("s since the recording's first event (VCD timescale 1 us)",
                           fontsize=8)
    axes[0, 0].set_title("keep trace export --to vcd: the chaos demo's LED pin (gpio op 3, "
                         "every 50 requests)", fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return waves


def make(recording, out):
    """All three pictures from one recording into the folder `out`."""
    out = Path(out)
    items, dec = decode(recording)
    doc = export_perfetto.build(items)
    windows = timeline_png(doc, out / TIMELINE)
    monitor_svg(items, dec, out / MONITOR)
    vcd = io.StringIO()
    export_vcd.write(items, vcd)
    pins_png(vcd.getvalue(), out / PINS)
    return windows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="recording", metavar="FILE",
                   help="a console recording (keep monitor/demo --record) instead of a new run")
    p.add_argument("--seconds", type=float, default=10.0, help="demo length (default: %(default)s)")
    p.add_argument("--out", default=str(HERE), help="folder for the pictures (default: docs/img)")
    p.add_argument("--keep-recording", metavar="FILE", help="also keep the demo's recording here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="keep-pictures-") as tmp:
        rec = args.recording
        if rec is None:
            rec = args.keep_recording or str(Path(tmp) / "chaos.bin")
            record(rec, args.seconds)
        make(rec, args.out)
    for name in (TIMELINE, MONITOR, PINS):
        print(Path(args.out) / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
