"""`make chaos`: the fault-injection campaign and restart latency (CPython).

Runs bench/chaos_mp.py with the MicroPython unix port, prints its figures
and merges them into bench/results.json (other benches add their own keys;
this only replaces the keys it measures). Exit status 1 when a goal is
missed: kernel_deaths > 0, lost_messages > 0, or a client blocked longer
than its timeout.

    python bench/chaos.py [FAULTS]     # default 1200 injected faults
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import unixport  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402
from resultsfile import RESULTS, merge  # noqa: E402

def run(faults=1200):
    res = unixport.run([str(HERE / "chaos_mp.py"), str(faults)], heap="512K",
                       path=(FIRMWARE,), timeout=300, merge_stderr=True)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode or not lines:
        raise SystemExit("chaos: the unix port run failed (exit %s):\n%s" % (res.returncode, res.stdout))
    return json.loads(lines[-1])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    figures = run(int(argv[0]) if argv else 1200)
    merge(figures)
    for k in sorted(figures):
        print(f"{k:24} {figures[k]}")
    bad = (figures["kernel_deaths"] or figures["lost_messages"]
           or figures["max_client_block_ms"] > figures["client_timeout_ms"])
    print("chaos:", "GOALS MISSED" if bad else "all goals met", f"-> {RESULTS.relative_to(HERE.parent)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
