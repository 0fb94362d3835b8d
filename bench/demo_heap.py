"""Run the chaos demo for a few seconds and merge its live-heap peak
(`demo_peak_heap_bytes`) and the console bytes per trace event
(`trace_bytes_per_event`) into bench/results.json (other keys are kept).

    .venv/bin/python bench/demo_heap.py [--seconds 10]

The number comes from the board: keep.boot writes a TR_HEAP trace record
of gc.mem_alloc() right after a gc.collect() every 500 ms (the live heap,
less the virtual board's mapped ROMFS partition), and the demo keeps the
highest. The demo deploys with --romfs, as `make demo` does, onto a board
with boards/unix.toml's heap, the same as `keep vboard`.
"""

import argparse
import sys
from pathlib import Path

from keep_host import demo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resultsfile import RESULTS, merge  # noqa: E402



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    res = demo.run_demo(seconds=args.seconds, out=lambda s: None)
    if res.heap_peak is None:
        sys.exit("the demo did not report a heap peak")
    figures = {"demo_peak_heap_bytes": res.heap_peak,
               "trace_bytes_per_event": round(res.trace_bytes_per_event, 2),
               "trace_bytes_per_record": round(res.trace_bytes_per_record, 2),
               "trace_records_in_demo": res.records,
               "trace_events_in_demo": res.events}
    merge(figures, args.out)
    for k, v in figures.items():
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
