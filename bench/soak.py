"""`make soak`: the chaos demo for a long time on the virtual board (not in `make test`).

Runs the library behind `keep demo` (keep_host.demo.run_demo) for --seconds
(default 600) and checks, from what the board traced and printed:

- heap does not grow: the demo's main.py writes a TR_HEAP record of the
  live heap (after gc.collect) every second. Growth = median of the last
  quarter of the samples minus the median of the second quarter (the first
  quarter is warm-up). soak_heap_growth_bytes; goal <= 1024 (noise).
- nothing is lost: the chaos client's own `lost` count (requests whose
  reply never came and were not reported as an error) plus trace frames
  lost on the console plus records the board's ring dropped. soak_lost;
  goal 0.
- every restart is in the trace: per task, the generations carried by its
  restart records are 1, 2, 3, ... with no gap (a restart always bumps the
  generation by one, so a missing record shows as a gap).
  soak_restart_gaps; goal 0.

    python bench/soak.py [--seconds N]

Merges soak_* keys into bench/results.json; exit 1 when a goal is missed.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import demo  # noqa: E402
from resultsfile import RESULTS, merge  # noqa: E402

HEAP_TOLERANCE = 1024


class SoakWatcher(demo._Watcher):
    """The demo's watcher, also keeping the heap series and restart generations."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.heap = []  # (host time, live heap bytes)
        self.gens = {}  # task -> generations seen in restart records, in order

    def _item(self, item):
        if item.type != "text":
            if item.kind == "heap":
                self.heap.append((time.monotonic(), item.fields["bytes"]))
            elif item.kind == "restart":
                self.gens.setdefault(item.task, []).append(item.fields["generation"])
        super()._item(item)


def soak(seconds, out=print):
    watchers = []

    class W(SoakWatcher):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            watchers.append(self)

    orig = demo._Watcher
    demo._Watcher = W
    try:
        res = demo.run_demo(seconds=seconds, out=out)
    finally:
        demo._Watcher = orig
    w = watchers[0]
    samples = [b for _, b in w.heap]
    growth = None
    if len(samples) >= 8:
        q = len(samples) // 4
        growth = int(statistics.median(samples[-q:]) - statistics.median(samples[q:2 * q]))
    gaps = 0
    for _task, gens in w.gens.items():
        want = list(range(gens[0], gens[0] + len(gens)))
        gaps += sum(1 for a, b in zip(gens, want, strict=True) if a != b)
        gaps += 0 if gens[0] == 1 else 1
    c = w.dec.counters
    lost = res.chaos.get("lost", 0) + c.frames_lost + c.records_dropped
    return {
        "soak_seconds": round(res.seconds, 1),
        "soak_heap_samples": len(samples),
        "soak_heap_first_bytes": samples[0] if samples else None,
        "soak_heap_last_bytes": samples[-1] if samples else None,
        "soak_heap_growth_bytes": growth,
        "soak_lost": lost,
        "soak_requests": res.chaos.get("requests", 0),
        "soak_restarts": sum(len(g) for g in w.gens.values()),
        "soak_restart_gaps": gaps,
        "soak_faults": sum(res.faults.values()),
        "soak_frames_corrupt": c.frames_corrupt,
    }



def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("-v", "--verbose", action="store_true", help="show the demo's live log")
    args = p.parse_args(argv)
    fig = soak(args.seconds, out=print if args.verbose else (lambda s: None))
    merge(fig)
    for k in sorted(fig):
        print(f"{k:24} {fig[k]}")
    bad = (fig["soak_heap_growth_bytes"] is None or fig["soak_heap_growth_bytes"] > HEAP_TOLERANCE
           or fig["soak_lost"] or fig["soak_restart_gaps"] or not fig["soak_requests"])
    print("soak:", "GOALS MISSED" if bad else "all goals met", f"-> {RESULTS.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
