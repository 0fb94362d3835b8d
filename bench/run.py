"""`make bench`: every benchmark, one run, figures merged into bench/results.json.

The kernel benchmark runs Keep and MicroPython's asyncio side by side in
one unix-port process (bench/kernel_bench.py) and reports ratios; `pico`
runs the same program (and the restart latency and the demo's heap) on
the emulated Pico (bench/pico_bench.py, the `_pico` figures); the others
measure the host tools, the chaos campaign and the demo. Each bench
merges its own keys; this prints the table at the end.

    python bench/run.py            # everything
    python bench/run.py kernel     # only the named benches
"""

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import unixport  # noqa: E402
from code_lines import kernel_code_lines  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402
from resultsfile import RESULTS, load, merge  # noqa: E402

# Goals from the issues: key -> (comparison, target)
GOALS = {
    "ipc_vs_asyncio_ratio": ("<=", 0.25),
    "ipc_alloc_bytes_per_roundtrip": ("<=", 0),
    "task_overhead_bytes": ("<=", 256),
    "trace_write_us": ("<=", 0.5),
    "restart_latency_ms": ("<=", 1),
    "kernel_deaths": ("<=", 0),
    "lost_messages": ("<=", 0),
    "monitor_decode_mb_per_s": (">=", 1),
    "trace_bytes_per_event": ("<=", 8),
    "deploy_noop_s": ("<=", 1),
    "fuzz_kernel_deaths": ("<=", 0),
    "fuzz_syscalls": (">=", 100000),
    "link_fault_garbage_shown": ("<=", 0),
    "demo_peak_heap_bytes": ("<=", 65536),
    "demo_min_heap_bytes": ("<=", 65536),
    # The emulated Pico (issue 12 item 6; bench/pico_bench.py)
    "ipc_vs_asyncio_ratio_pico": ("<=", 0.35),  # issue 13
    "kernel_code_lines": ("<=", 1500),  # issue 13: firmware/keep/ without comments or docstrings
    "ipc_alloc_bytes_per_roundtrip_pico": ("<=", 0),
    "task_overhead_bytes_pico": ("<=", 256),
    "restart_latency_ms_pico": ("<=", 20),
}


def kernel():
    res = unixport.run([str(HERE / "kernel_bench.py")], heap="512K", path=(FIRMWARE,),
                       timeout=600, merge_stderr=True)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode or not lines:
        raise SystemExit("kernel bench failed (exit %s):\n%s" % (res.returncode, res.stdout))
    merge(json.loads(lines[-1]))
    merge({"kernel_code_lines": kernel_code_lines()[0]})


def script(name, *args):
    def run():
        path = HERE / name
        if not path.exists():
            print(f"  ({name} not present, skipped)")
            return
        subprocess.run([sys.executable, str(path), *args], check=True, cwd=ROOT)
    return run


BENCHES = {
    "kernel": kernel,
    "trace": script("trace_decode.py"),
    "chaos": script("chaos.py"),
    "deploy": script("deploy.py"),
    "reboot": script("reboot.py"),
    "demo": script("demo_heap.py"),
    "pico": script("pico_bench.py"),
    "fuzz": script("fuzz.py"),
    "link": script("link_faults.py"),
}


def table(data):
    print(f"\n{'figure':36} {'value':>14}  goal")
    for k in sorted(data):
        v = data[k]
        if isinstance(v, dict):
            continue
        goal = GOALS.get(k)
        mark = ""
        if goal and isinstance(v, (int, float)):
            ok = v <= goal[1] if goal[0] == "<=" else v >= goal[1]
            mark = f"{goal[0]} {goal[1]}  {'met' if ok else 'MISSED'}"
        print(f"{k:36} {v!s:>14}  {mark}")


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown bench {unknown[0]!r}; known: {', '.join(BENCHES)}")
    for n in names:
        t0 = time.time()
        print(f"== {n}", flush=True)
        BENCHES[n]()
        print(f"   {time.time() - t0:.1f} s", flush=True)
    table(load(RESULTS))
    subprocess.run([sys.executable, str(HERE / "report.py")], check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
