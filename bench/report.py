"""Write docs/performance.md and its plots from bench/results.json.

Run by `make bench` after the benchmarks. The page states each figure
with the command that produced it, the goal, and the honest limits. A
figure measured on the emulated Pico too (`<key>_pico`, bench/pico_bench.py)
sits in the same row, with its own goal.

    python bench/report.py
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs"
IMG = DOCS / "img"
sys.path.insert(0, str(HERE))
from resultsfile import load  # noqa: E402
from run import GOALS  # noqa: E402

# figure -> (what it is, the command that measures it)
FIGURES = {
    "ipc_roundtrip_us": ("Keep send→recv→reply, 16-byte request and reply, checks and trace on", "make bench"),
    "asyncio_roundtrip_us": ("asyncio two-task Event ping-pong, same process, same run, "
                             "over a whole collection cycle", "make bench"),
    "asyncio_fresh_roundtrip_us": ("the same, its first 200 round trips after a collection",
                                   "make bench"),
    "ipc_vs_asyncio_ratio": ("Keep / asyncio round-trip time (median of per-round ratios)", "make bench"),
    "ipc_floor_us": ("the floor: two bare coroutines, the request copied once, three awaits a "
                     "round trip, no scheduler, no checks, no trace", "make bench"),
    "ipc_floor_vs_asyncio_ratio": ("floor / asyncio round-trip time: the least any kernel of this "
                                   "interpreter could reach", "make bench"),
    "kernel_code_lines": ("lines of code in firmware/keep/ (no comments, docstrings or blank lines; "
                          "runtime/ not counted)", "python bench/code_lines.py"),
    "ipc_alloc_bytes_per_roundtrip": ("heap bytes per Keep round trip (unix: micropython.mem_total "
                                      "delta; Pico: gc.mem_alloc delta with the GC off)", "make bench"),
    "asyncio_alloc_bytes_per_roundtrip": ("heap bytes per asyncio round trip", "make bench"),
    "task_overhead_bytes": ("kernel bytes per task beyond its coroutine and message buffers", "make bench"),
    "trace_write_us": ("one trace record written into the ring", "make bench"),
    "restart_latency_ms": ("server fault → first answered request after restart", "make chaos"),
    "reboot_to_serving_ms": ("whole-board reset until the same server answers again", "python bench/reboot.py"),
    "availability_ratio_reboot_vs_restart": ("(1+λ·t_r)/(1+λ·t_s), λ = one fault per hour", "python bench/reboot.py"),
    "faults_injected": ("faults injected by the chaos campaign", "make chaos"),
    "kernel_deaths": ("kernel deaths during the campaign", "make chaos"),
    "lost_messages": ("requests without a reply or an explicit error", "make chaos"),
    "max_client_block_ms": ("longest a client waited (its timeout is client_timeout_ms)", "make chaos"),
    "monitor_decode_mb_per_s": ("host decode throughput of a recorded console stream", "python bench/trace_decode.py"),
    "trace_bytes_per_event": ("console bytes per decoded trace event in the chaos demo", "python bench/demo_heap.py"),
    "trace_bytes_per_record": ("console bytes per trace record in the chaos demo", "python bench/demo_heap.py"),
    "trace_bytes_per_event_synthetic": ("the same for a synthetic event mix", "python bench/trace_decode.py"),
    "deploy_noop_s": ("second deploy, nothing changed, virtual board", "python bench/deploy.py"),
    "deploy_full_s": ("first deploy to a fresh virtual board", "python bench/deploy.py"),
    "demo_peak_heap_bytes": ("live heap peak of the chaos demo (unix: 64-bit, modules in ROMFS; "
                             "Pico: 32-bit, modules as .mpy files)", "python bench/demo_heap.py"),
    "demo_min_heap_bytes": ("smallest heap (`keep demo --heap`, 2 KB steps) the chaos demo runs in", "python bench/demo_heap.py"),
    "fuzz_syscalls": ("syscalls thrown at the kernel by the fuzzer", "python bench/fuzz.py"),
    "fuzz_kernel_deaths": ("kernel deaths under fuzzing", "python bench/fuzz.py"),
    "link_fault_recovered_frames": ("frames decoded after link faults", "python bench/link_faults.py"),
    "link_fault_garbage_shown": ("garbage shown as text under link faults", "python bench/link_faults.py"),
}


def verdict(key, value):
    goal = GOALS.get(key)
    if not goal or not isinstance(value, (int, float)):
        return ""
    ok = value <= goal[1] if goal[0] == "<=" else value >= goal[1]
    return f"{goal[0]} {goal[1]}: {'met' if ok else '**missed**'}"


def cells(r, key):
    """The value and goal cells of `key` ('' when not measured)."""
    return (str(r[key]), verdict(key, r[key])) if key in r else ("", "")


def host_load_table(runs):
    """The Pico's board benches run idle and beside two busy loops, side by side."""
    idle, loaded = runs.get("idle", {}), runs.get("loaded", {})
    rows = ["| figure | no load added | two busy loops added |", "|---|---|---|"]
    for k in idle:
        label = {"wall_s": "wall time of the run, s",
                 "host_load_avg_5min": "host load average (5 min) at its end"}.get(k, f"`{k}`")
        rows.append(f"| {label} | {idle[k]} | {loaded.get(k, '')} |")
    return "\n".join(rows)


def bars(path, title, labels, values, unit):
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.barh(labels, values, color=["#2a7ab0", "#b0552a", "#888888"][: len(values)])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g} {unit}", va="center")
    ax.set_title(title)
    ax.set_xlim(0, max(values) * 1.35 or 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    r = load()
    IMG.mkdir(parents=True, exist_ok=True)
    plots = []
    if "ipc_roundtrip_us" in r and "asyncio_roundtrip_us" in r:
        bars(IMG / "roundtrip.png", "Round trip on the unix port (lower is better)",
             ["Keep IPC", "asyncio Event"], [r["ipc_roundtrip_us"], r["asyncio_roundtrip_us"]], "µs")
        plots.append(("roundtrip.png", "Round-trip time"))
    if "ipc_roundtrip_us_pico" in r and "asyncio_roundtrip_us_pico" in r:
        bars(IMG / "roundtrip_pico.png", "Round trip on the emulated Pico (lower is better)",
             ["Keep IPC", "asyncio, cycle", "asyncio, fresh"],
             [r["ipc_roundtrip_us_pico"], r["asyncio_roundtrip_us_pico"],
              r.get("asyncio_fresh_roundtrip_us_pico", 0)], "µs")
        plots.append(("roundtrip_pico.png", "Round-trip time on the emulated Pico"))
    if "ipc_alloc_bytes_per_roundtrip" in r:
        bars(IMG / "alloc.png", "Heap bytes per round trip (lower is better)",
             ["Keep IPC", "asyncio Event"],
             [r["ipc_alloc_bytes_per_roundtrip"], r.get("asyncio_alloc_bytes_per_roundtrip", 0)], "B")
        plots.append(("alloc.png", "Allocation per round trip"))
    rows = []
    for k, (what, cmd) in FIGURES.items():
        if k in r or k + "_pico" in r:
            unix, pico = cells(r, k), cells(r, k + "_pico")
            rows.append(f"| `{k}` | {unix[0]} | {unix[1]} | {pico[0]} | {pico[1]} | {what} | `{cmd}` |")
    text = (DOCS / "performance.in.md").read_text()
    text = text.replace("{{TABLE}}", "\n".join(rows))
    text = text.replace("{{PICO_HOST_LOAD}}", host_load_table(r.get("pico_host_load", {}))
                        if "pico_host_load" in r else "(not measured yet: "
                        "`python bench/pico_bench.py --host-load`)")
    text = text.replace("{{PLOTS}}", "\n\n".join(f"![{t}](img/{f})" for f, t in plots))
    (DOCS / "performance.md").write_text(text)
    print(f"wrote {DOCS / 'performance.md'} and {len(plots)} plots")


if __name__ == "__main__":
    main()
