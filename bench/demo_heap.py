"""Run the chaos demo and merge its heap figures into bench/results.json
(other keys are kept):

- `demo_peak_heap_bytes`: the live-heap peak. runtime.boot writes a TR_HEAP
  trace record of gc.mem_alloc() right after a gc.collect() every 500 ms
  (the live heap, less the virtual board's mapped ROMFS partition), and
  the demo keeps the highest.
- `demo_min_heap_bytes`: the smallest heap (`keep demo --heap`, in 2 KB
  steps, found by bisection) in which the demo boots and runs with the
  client served, nothing lost and no task but `flaky` faulting. It is
  above the live peak: the boot's transient objects and the holes a
  non-moving collector leaves need room too.
- `trace_bytes_per_event`: console bytes per decoded trace event.

    .venv/bin/python bench/demo_heap.py [--seconds 10] [--no-min-heap]
    .venv/bin/python bench/demo_heap.py --board rpi_pico [--firmware FROZEN.uf2]

--board rpi_pico runs it on the emulated Pico (.mpy files deployed, as
bench/pico_bench.py does): `demo_peak_heap_bytes_pico`, no bisection (the
firmware's heap is fixed). --firmware boots a UF2 with the app frozen in
(keep build --image, docs/freeze.md) instead of deploying it, and prints
`demo_peak_heap_bytes_pico_frozen` without merging it: the image is built
by hand, not vendored, so no later run could reproduce the figure.

The demo deploys with --romfs, as `make demo` does, onto a board with
boards/unix.toml's heap, the same as `keep vboard`.
"""

import argparse
import sys
from pathlib import Path

from keep_host import demo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resultsfile import RESULTS, merge  # noqa: E402

_STEP = 2048


def runs_in(heap, seconds):
    """True when the chaos demo boots and works in a `heap`-byte heap."""
    res = demo.run_demo(seconds=seconds, heap=f"{heap // 1024}K", out=lambda s: None)
    c = res.chaos
    ok = (c.get("served", 0) > 0 and c.get("lost", 1) == 0 and c.get("drivers", 1) == 0
          and set(res.faults) <= {"flaky"})
    print(f"  {heap // 1024}K heap: {'runs' if ok else 'fails'}"
          f" (served {c.get('served', 0)}, faults {res.faults or 'none'})", flush=True)
    return ok


def min_heap(lo, hi, seconds):
    """Smallest multiple of _STEP in (lo, hi] the demo runs in; hi must run."""
    while hi - lo > _STEP:
        mid = (lo + hi) // 2 // _STEP * _STEP
        if runs_in(mid, seconds):
            hi = mid
        else:
            lo = mid
    return hi


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-min-heap", action="store_true",
                    help="skip the bisection for demo_min_heap_bytes (~1 min)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--board", default="unix", choices=["unix", "rpi_pico"])
    ap.add_argument("--firmware", metavar="UF2", help="rpi_pico: the chaos app frozen in this image")
    args = ap.parse_args(argv)
    if args.firmware and args.board != "rpi_pico":
        sys.exit("--firmware is for --board rpi_pico")
    res = demo.run_demo(seconds=args.seconds, board=args.board, firmware=args.firmware,
                        out=lambda s: None)
    if res.heap_peak is None:
        sys.exit("the demo did not report a heap peak")
    if args.board == "rpi_pico":
        key = "demo_peak_heap_bytes_pico" + ("_frozen" if args.firmware else "")
        c = res.chaos
        print(f"{key}={res.heap_peak}  (served {c.get('served', 0)}, lost {c.get('lost', 0)}, "
              f"faults {res.faults or 'none'})")
        if not args.firmware:
            merge({key: res.heap_peak}, args.out)
        return 0
    figures = {"demo_peak_heap_bytes": res.heap_peak,
               "trace_bytes_per_event": round(res.trace_bytes_per_event, 2),
               "trace_bytes_per_record": round(res.trace_bytes_per_record, 2),
               "trace_records_in_demo": res.records,
               "trace_events_in_demo": res.events}
    if not args.no_min_heap:
        # Between the live peak (it cannot run in less) and twice that.
        lo = res.heap_peak // _STEP * _STEP
        hi = 2 * lo
        if not runs_in(hi, 8.0):
            sys.exit(f"the demo does not run in a {hi // 1024}K heap")
        figures["demo_min_heap_bytes"] = min_heap(lo, hi, 8.0)
    merge(figures, args.out)
    for k, v in figures.items():
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
