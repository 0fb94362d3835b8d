"""The kernel bench, restart latency, heap parts and demo heap on the emulated Pico.

Writes the `_pico` figures of bench/results.json (docs/performance.md puts
them beside the unix port's). `make bench` runs this as bench/run.py's
`pico` step.

    python bench/pico_bench.py                # the figures (~4 min of wall time)
    python bench/pico_bench.py --host-load    # the board benches twice: as the host is,
                                              # then beside two busy loops (pico_host_load)

The board programs are the unix port's, unchanged: bench/kernel_bench.py
and the restart latency of bench/chaos_mp.py (`restart` mode), run with
stock `mpremote run`; a board has no command line, so `mpremote exec`
sets sys.argv first. bench/heap_parts_mp.py takes the chaos app's heap
apart for boards/rpi_pico.toml's kernel_bytes and task_overhead_bytes.
Their modules get onto the board the way a user's board gets them:
`keep deploy --no-boot` of the chaos app rigged for the Pico (every
firmware module compiled to armv6m .mpy and copied to the chip's flash;
--no-boot leaves the REPL, and mpremote's soft reset from the raw REPL
does not run main.py). The demo then boots the same flash (`keep demo
--board rpi_pico`'s code, keep_host.demo.run_demo), whose deploy finds
every file up to date: one deploy, ~30 s of the wall time, serves all.

Time inside the emulator is the emulated 125 MHz clock (docs/emulator.md,
"Board time"): the board measures its own figures with time.ticks_us, so
a loaded host makes the run slower, not the figures different.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host.errors import KeepError  # noqa: E402
from keep_host.paths import venv_bin  # noqa: E402
from resultsfile import merge  # noqa: E402

BOARD = "rpi_pico"
# Sizes for ~4 minutes of wall time on a 2-core host (the emulator runs at
# ~0.2 x a real Pico). Keep's round trip allocates nothing, so a few
# hundred give its steady state; asyncio's needs a whole collection cycle
# (kernel_bench.py's header): ~100 B of garbage per round trip fills the
# ~210 KB free heap in ~2,200, so 2,500 span one collection, and that is
# most of the time (6.7 s of board time a round). The rounds agree to
# 0.3 % (the emulator is deterministic but for when host bytes arrive).
KEEP_N = 300
ASYNCIO_N = 2500
ROUNDS = 3
TRACE_N = 2000
RESTART_RUNS = 15
DEMO_SECONDS = 10.0
# Wall-clock safety net for one board program (the board's own time is
# what the figures use); generous for a loaded machine.
RUN_TIMEOUT_S = 900

# The board programs' keys that are kept, each with a _pico suffix
KERNEL_KEYS = ("ipc_roundtrip_us", "asyncio_roundtrip_us", "asyncio_fresh_roundtrip_us",
               "ipc_vs_asyncio_ratio", "ipc_alloc_bytes_per_roundtrip", "ipc_floor_us",
               "ipc_floor_vs_asyncio_ratio",
               "asyncio_alloc_bytes_per_roundtrip", "task_overhead_bytes", "task_total_bytes",
               "task_coroutine_bytes", "trace_write_us", "alloc_counted_by", "bench_rounds",
               "bench_roundtrips_per_round", "bench_asyncio_roundtrips_per_round")
RESTART_KEYS = ("restart_latency_ms", "restart_latency_max_ms", "restart_latency_runs")


def board_json(url, script, *args, timeout=RUN_TIMEOUT_S):
    """Run a bench program on the board with `args` as its sys.argv[1:];
    the last JSON line it printed."""
    argv = [Path(script).name, *map(str, args)]
    cmd = [str(venv_bin("mpremote")), "connect", url,
           "exec", f"import sys; sys.argv[:] = {argv!r}", "run", str(script)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = res.stdout + res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode or not lines or "Traceback" in out:
        raise KeepError(f"{Path(script).name} on the emulated Pico failed "
                        f"(exit {res.returncode}): {out.strip()[-1500:]}")
    return json.loads(lines[-1])


def board_print(url, code, timeout=RUN_TIMEOUT_S):
    """What `mpremote exec code` printed (after mpremote's soft reset)."""
    cmd = [str(venv_bin("mpremote")), "connect", url, "exec", code]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode:
        raise KeepError(f"mpremote exec on the emulated Pico failed: {res.stderr.strip()[-500:]}")
    return res.stdout.strip()


def deploy_firmware(url):
    """keep deploy --no-boot of the rigged chaos app: every firmware module
    (keep/, servers/, hal/rp2, ...) as .mpy on the board's flash."""
    from keep_host.demo import RIG
    from keep_host.deploy import deploy

    return deploy(url, "chaos", BOARD, boot=False, wiring=RIG)


def board_benches(url, keep_n=KEEP_N, asyncio_n=ASYNCIO_N, rounds=ROUNDS, trace_n=TRACE_N,
                  restart_runs=RESTART_RUNS):
    """The kernel bench and the restart latency on a board with the firmware
    deployed: {results key: value}, keys with the _pico suffix."""
    k = board_json(url, HERE / "kernel_bench.py", keep_n, rounds, trace_n, asyncio_n)
    r = board_json(url, HERE / "chaos_mp.py", "restart", restart_runs)
    fig = {key + "_pico": k[key] for key in KERNEL_KEYS}
    fig.update({key + "_pico": r[key] for key in RESTART_KEYS})
    return fig


def heap_parts(url):
    """The chaos app's heap in the parts boards/rpi_pico.toml estimates
    (bench/heap_parts_mp.py), and the figures the board file is set from:

    kernel_bytes = the firmware's own heap at the REPL + every module the
                   chaos demo imports (kernel, HAL, servers, clients and
                   the app, as .mpy in the heap: the stock Pico firmware
                   has no ROMFS partition)
    task_overhead_bytes = per task, what runtime.boot.setup and the first
                   seconds of running add (less the trace ring), less the
                   max_msg the estimate adds for each task itself

    so that `keep check`'s estimate less the tasks' heap budgets is the
    demo's live heap; `heap_estimate_chaos_pico` is that estimate with the
    board file as it stands, to set beside demo_peak_heap_bytes_pico."""
    from keep_host.manifest import check_app, resolve_app, rules

    # The REPL's own heap: a fresh soft reset, then a collection.
    repl_bytes = int(board_print(url, "import gc; gc.collect(); print(gc.mem_alloc())"))
    p = board_json(url, HERE / "heap_parts_mp.py")
    per_task = (p["setup_bytes"] - p["trace_records"] * 8 + p["running_bytes"]) / p["tasks"]
    report = check_app(resolve_app("chaos"), board=BOARD)
    estimate, _ = rules.heap_estimate(report.app, report.board)
    fig = {key + "_pico": p[key] for key in ("modules_bytes", "app_modules_bytes", "setup_bytes",
                                              "running_bytes")}
    fig.update({"repl_heap_bytes_pico": repl_bytes,
                "board_kernel_bytes_pico": repl_bytes + p["modules_bytes"] + p["app_modules_bytes"],
                "board_task_overhead_bytes_pico": round(per_task - p["max_msg"]),
                "heap_estimate_chaos_pico": estimate})
    return fig


def demo_heap(flash_dir, seconds=DEMO_SECONDS):
    """demo_peak_heap_bytes on the Pico, as bench/demo_heap.py takes it on unix."""
    from keep_host.demo import run_demo

    res = run_demo(seconds=seconds, board=BOARD, flash_dir=flash_dir, out=lambda s: None)
    if res.heap_peak is None:
        raise KeepError("the chaos demo on the emulated Pico reported no heap peak")
    c = res.chaos
    return {"demo_peak_heap_bytes_pico": res.heap_peak,
            "demo_served_pico": c.get("served", 0), "demo_lost_pico": c.get("lost", 0)}


def busy_loops(n=2):
    """n CPython processes spinning: a host with no idle core."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host-load", action="store_true",
                    help="run the board benches idle, then beside two busy loops, and record "
                         "both (pico_host_load); the main figures are left alone")
    args = ap.parse_args(argv)
    from keep_host.vboard.pico import EmulatedPico, node_or_none

    if node_or_none() is None:
        print("  skipped: the emulated Pico needs Node.js >= 18, not installed here")
        return 0
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="keep-pico-bench-") as tmp:
        flash = Path(tmp) / "flash"
        with EmulatedPico(flash) as pico:
            print(f"  emulated Pico at {pico.url}; deploying the firmware ...", flush=True)
            d = deploy_firmware(pico.url)
            print(f"  {d.summary()}", flush=True)
            if args.host_load:
                runs = {}
                for label in ("idle", "loaded"):
                    procs = busy_loops() if label == "loaded" else []
                    try:
                        t0 = time.monotonic()
                        fig = board_benches(pico.url)
                        fig["wall_s"] = round(time.monotonic() - t0, 1)
                        # What else the shared host was doing meanwhile.
                        fig["host_load_avg_5min"] = round(os.getloadavg()[1], 1)
                    finally:
                        for p in procs:
                            p.kill()
                            p.wait()
                    runs[label] = fig
                    print(f"  {label}: {json.dumps(fig)}", flush=True)
                merge({"pico_host_load": runs})
                return 0
            t0 = time.monotonic()
            fig = board_benches(pico.url)
            print(f"  kernel bench and restart latency: {time.monotonic() - t0:.0f} s wall",
                  flush=True)
            t0 = time.monotonic()
            fig.update(heap_parts(pico.url))
            print(f"  heap parts: {time.monotonic() - t0:.0f} s wall", flush=True)
        t0 = time.monotonic()
        fig.update(demo_heap(flash))
        print(f"  demo heap: {time.monotonic() - t0:.0f} s wall", flush=True)
    fig["pico_bench_wall_s"] = round(time.monotonic() - t_start, 1)
    merge(fig)
    for key in sorted(fig):
        print(f"  {key:44} {fig[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
