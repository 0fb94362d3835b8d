"""The microkernel trade-off, measured: Keep against its monolithic build.

    python bench/tradeoff.py            # everything (`make tradeoff`): writes
                                        # bench/results.json and docs/tradeoff.md
    python bench/tradeoff.py --short    # a few ops of each measurement (tests/host)
    python bench/tradeoff.py --no-pico --no-callgrind   # the unix timings alone

The monolithic build is the same app table, HAL, client API and driver
code with the drivers called in the caller's task (firmware/clients/
direct.py, `keep deploy --monolithic`). Measured here, each in one run:

cost      bench/tradeoff_mp.py, op by op, both builds in one process: time
          per op on the unix port and on the emulated Pico (its emulated
          cycles do not move with the host's load), heap bytes allocated
          per op on both; instructions and simulated L1 cache misses per
          op on the unix port under callgrind (valgrind's cache model with
          this host's cache sizes): the working-set proxy.
          Figures: tradeoff_op_ratio_<op> (Keep / monolithic time, unix),
          tradeoff_op_ratio_<op>_pico, tradeoff_instr_ratio_<op>; every
          raw figure under tradeoff_cost.

faults    the same seeded bug rate in driver invocations against both builds
          (tradeoff_mp.py faults): p and q per invocation with Wilson 95 %
          intervals, t_s from the board, t_r from real resets of the
          monolithic build on the board (a board that does not come back in
          REBOOT_LIMIT_S counts as that much downtime); the reliability and
          availability ratios with intervals. Keys without a suffix are the
          unix port's, _pico the emulated Pico's.
tcb       code lines and bytes on the board per part (bench/tradeoff_tcb.py):
          tcb_code_lines, tcb_share, and the same for the monolithic build.

docs/tradeoff.md is generated from bench/results.json (bench/tradeoff_doc.py).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import fwtest, unixport  # noqa: E402
from keep_host.errors import KeepError  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402
from resultsfile import load, merge  # noqa: E402

PROGRAM = HERE / "tradeoff_mp.py"
BUILDS = ("keep", "mono")
N_UNIX = 300  # ops timed per op and build on the unix port
ROUNDS_UNIX = 5  # the median of 5 alternating rounds: the host's load moves unix timings
PICO_RUN_S = 900  # board seconds one tradeoff_mp.py run may take on the emulated Pico
N_PICO = 50  # on the emulated Pico, whose emulated cycles do not move with the host's load  # on the emulated Pico (~20 s of wall time a build)
N_SHORT = 10
CG_LO, CG_HI = 4, 24  # callgrind: each op runs WARM + 2 n times in a run


def _json(out, where):
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise KeepError(f"tradeoff_mp.py on {where} printed no result:\n{out[-2000:]}")
    return json.loads(lines[-1])


def run_unix(n, rounds):
    """tradeoff_mp.py on the unix port: {"us": {build: {op: us}}, "alloc": ...}."""
    r = unixport.run([str(PROGRAM), str(n), ",".join(BUILDS), f"rounds={rounds}"], heap="256K", path=(FIRMWARE, fwtest.FW_LIB),
                     cwd=HERE, timeout=600, merge_stderr=True)
    if r.returncode:
        raise KeepError(f"tradeoff_mp.py on the unix port failed:\n{r.stdout[-2000:]}")
    return _json(r.stdout, "the unix port")


def pico_part(fig, what, args, progress):
    """run_pico(args)'s result, or None when it failed (said, and kept in
    fig's tradeoff_errors, so the other figures stand) or Node.js is missing."""
    try:
        got = run_pico(args)
    except KeepError as e:
        fig.setdefault("tradeoff_errors", []).append(str(e)[:300])
        progress(f"  {what}: FAILED: {str(e)[:300]}")
        return None
    if got is None:
        progress(f"  {what}: skipped, Node.js >= 18 not installed")
    return got


def run_pico(*runs):
    """tradeoff_mp.py on an emulated Pico of its own, once per argument list
    in runs (a board has no command line: a one-line module per run sets
    sys.argv and imports the program); the JSON result of each."""
    from keep_host.fwboard import EmulatedBoard, workdir_for
    from keep_host.vboard.pico import node_or_none

    if node_or_none() is None:
        return None
    out = []
    with tempfile.TemporaryDirectory() as tmp, \
            EmulatedBoard(workdir_for("rpi_pico", "tradeoff"), timeout=PICO_RUN_S) as board:
        mods = []
        for i, args in enumerate(runs):
            m = Path(tmp) / f"tradeoff_run{i}.py"
            m.write_text(f"import sys\nsys.argv[:] = {['tradeoff_mp.py', *map(str, args)]!r}\n"
                         "import tradeoff_mp  # noqa: F401, E402\n")
            mods.append(m)
        board.setup([PROGRAM, *mods])
        for m in mods:
            res = board.run(m)
            if res.returncode:
                raise KeepError(f"tradeoff_mp.py {' '.join(map(str, runs[mods.index(m)]))} on the "
                                f"emulated Pico failed:\n{res.output[-2000:]}")
            out.append(_json(res.output, "the emulated Pico"))
    return out


_CG = {"instr": r"I\s+refs:\s+([\d,]+)", "i1_miss": r"I1\s+misses:\s+([\d,]+)",
       "d1_miss": r"D1\s+misses:\s+([\d,]+)"}


def callgrind(args):
    """valgrind --tool=callgrind --cache-sim=yes on tradeoff_mp.py args:
    {"instr": n, "i1_miss": n, "d1_miss": n} for the whole run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes",
               f"--callgrind-out-file={tmp}/cg.out", unixport.micropython_exe(),
               "-X", "heapsize=256K", str(PROGRAM), *map(str, args), "instant"]
        env = {"MICROPYPATH": f"{FIRMWARE}:{fwtest.FW_LIB}", "PATH": "/usr/bin:/bin"}
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    got = {k: re.search(p, res.stderr) for k, p in _CG.items()}
    if res.returncode or not all(got.values()) or '"us"' not in res.stdout:
        raise KeepError(f"callgrind run failed (exit {res.returncode}):\n"
                        f"{res.stdout[-1000:]}{res.stderr[-2000:]}")
    return {k: int(m.group(1).replace(",", "")) for k, m in got.items()}


def callgrind_ops(ops, progress=print):
    """Per op and build: instructions and L1 misses per op. A build's base
    run does every op CG_LO times; one run per op does that op CG_HI times:
    the difference over 2 (CG_HI - CG_LO) executions is one op's."""
    out = {b: {} for b in BUILDS}
    for b in BUILDS:
        base = callgrind([CG_LO, b])
        for op in ops:
            hi = callgrind([CG_LO, b, f"{op}={CG_HI}"])  # the other ops stay at CG_LO
            per = {k: (hi[k] - base[k]) / (2 * (CG_HI - CG_LO)) for k in base}
            out[b][op] = {k: round(v, 1) for k, v in per.items()}
            progress(f"  callgrind {b:4} {op:14} {per['instr']:9.0f} instructions, "
                     f"{per['i1_miss'] + per['d1_miss']:6.1f} L1 misses per op")
    return out


def ratios(us, suffix=""):
    """tradeoff_op_ratio_<op><suffix>: Keep time / monolithic time."""
    return {f"tradeoff_op_ratio_{op}{suffix}": round(us["keep"][op] / us["mono"][op], 2)
            for op in us["keep"] if us["mono"].get(op)}


def cost(short=False, pico=True, cg=True, unix=True, progress=print):
    """The cost side: results keys and the raw figures (tradeoff_cost)."""
    fig, raw = {}, {}
    if unix:
        t0 = time.monotonic()
        u = run_unix(N_SHORT if short else N_UNIX, 1 if short else ROUNDS_UNIX)
        raw["unix"] = u
        fig.update(ratios(u["us"]))
        progress(f"  unix port: {time.monotonic() - t0:.0f} s wall")
        for op in u["ops"]:
            progress(f"  unix {op:14} keep {u['us']['keep'][op]:8.1f} us  mono "
                     f"{u['us']['mono'][op]:8.1f} us  ratio {fig['tradeoff_op_ratio_' + op]}")
        if cg and not short:
            if shutil.which("valgrind") is None:
                progress("  callgrind: skipped, valgrind not installed (apt-get install valgrind)")
            else:
                t0 = time.monotonic()
                c = callgrind_ops(u["ops"], progress)
                raw["callgrind"] = c
                for op in u["ops"]:
                    fig[f"tradeoff_instr_ratio_{op}"] = round(
                        c["keep"][op]["instr"] / c["mono"][op]["instr"], 2)
                progress(f"  callgrind: {time.monotonic() - t0:.0f} s wall")
    if pico and not short:
        t0 = time.monotonic()
        p = pico_part(fig, "emulated Pico", [N_PICO, ",".join(BUILDS)], progress)
        if p is not None:
            p = raw["pico"] = p[0]
            fig.update(ratios(p["us"], "_pico"))
            for op in p["ops"]:
                progress(f"  pico {op:14} keep {p['us']['keep'][op]:8.1f} us  mono "
                         f"{p['us']['mono'][op]:8.1f} us")
            progress(f"  emulated Pico: {time.monotonic() - t0:.0f} s wall")
    fig["tradeoff_cost"] = raw
    return fig


# ---- faults --------------------------------------------------------------------

FAULT_N_UNIX = 20000  # driver invocations per build (~200 bugs at FAULT_PPM)
FAULT_N_PICO = 600
FAULT_N_SHORT = 400
FAULT_PPM = 10000  # bugs per million driver invocations (1 %)
REBOOTS_UNIX, REBOOTS_PICO, REBOOTS_SHORT = 10, 5, 2
REBOOT_LIMIT_S = 30.0  # board seconds; a board not back by then is downtime, not a hang
NL = 1000  # N·L at which reliability_ratio is given (N drivers x L invocations each)
LAMBDA_PER_H = 1.0  # the failure rate availability_ratio is given at


def wilson(k, n, z=1.96):
    """95 % Wilson interval of a proportion k/n (sound at k = 0)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return (max(0.0, c - h), min(1.0, c + h))


# Student's t, two-sided 95 %, by degrees of freedom (1.96 past 30)
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
        10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 25: 2.06, 30: 2.04}


def mean_ci(xs):
    """(mean, low, high): the mean and its 95 % t interval."""
    n = len(xs)
    if n == 0:
        return (None, None, None)
    m = sum(xs) / n
    if n == 1:
        return (m, m, m)
    sd = (sum((x - m) ** 2 for x in xs) / (n - 1)) ** 0.5
    df = n - 1
    t = 1.96 if df > 30 else _T95[max(k for k in _T95 if k <= df)]
    h = t * sd / n ** 0.5
    return (m, max(0.0, m - h), m + h)


def reboot_times(board, runs, progress=print):
    """t_r on the board itself: the monolithic chaos app deployed, then
    `runs` resets, each timed in board seconds from the reset to `keep:
    kernel running` (its first request follows in its first slice). A
    board that is not back within REBOOT_LIMIT_S counts that long, as
    downtime, and the run goes on. Returns (samples in ms, unanswered)."""
    from keep_host.boardtime import Deadline, WallClock
    from keep_host.demo import RIG
    from keep_host.deploy import deploy
    from keep_host.vboard import open_virtual

    times, unanswered = [], 0
    with tempfile.TemporaryDirectory(prefix="keep-tradeoff-") as tmp:
        vb = open_virtual(board, Path(tmp) / "flash")
        vb.start()
        try:
            deploy(vb.url, "chaos", board, monolithic=True, wiring=RIG)
            clock = getattr(vb, "clock", None) or WallClock()
            for _ in range(runs):
                mark = vb.mark()
                t0 = clock.now()
                vb.reset(wait=False)
                dl = Deadline(REBOOT_LIMIT_S, clock)
                while b"keep: kernel running" not in vb.output_since(mark):
                    if dl.expired():
                        unanswered += 1
                        break
                    clock.sleep(0.002)
                times.append((clock.now() - t0) * 1000)
        finally:
            vb.stop()
    progress(f"  t_r {board}: {', '.join(f'{t:.0f}' for t in times)} ms"
             f"{f' ({unanswered} never answered: downtime)' if unanswered else ''}")
    return times, unanswered


def fault_figures(camp, t_r, unanswered, suffix=""):
    """The fault side's results keys from one campaign and the reboot times."""
    k, m = camp["keep"], camp["mono"]
    p = m["downs"] / m["invocations"]
    q = k["downs"] / k["invocations"]
    p_ci, q_ci = wilson(m["downs"], m["invocations"]), wilson(k["downs"], k["invocations"])
    t_s = mean_ci([t / 1000 for t in k["t_us"]])
    t_rr = mean_ci(t_r)

    def rel(q, p):
        return ((1 - q) / (1 - p)) ** NL if p < 1 else float("inf")

    lam = LAMBDA_PER_H / 3_600_000  # per ms

    def avail(tr, ts):
        return (1 + lam * tr) / (1 + lam * ts)

    fig = {
        "p_system_down_per_invocation_monolithic": p,
        "q_system_down_per_invocation_keep": q,
        "p_ci95": [round(x, 6) for x in p_ci], "q_ci95": [round(x, 6) for x in q_ci],
        "t_s_ms": round(t_s[0], 3), "t_s_ms_ci95": [round(t_s[1], 3), round(t_s[2], 3)],
        "t_r_ms": round(t_rr[0], 1), "t_r_ms_ci95": [round(t_rr[1], 1), round(t_rr[2], 1)],
        "reliability_ratio": rel(q, p),
        # the worst case for Keep: its q at the top of its interval, p at the bottom of p's
        "reliability_ratio_ci95": [rel(q_ci[1], p_ci[0]), rel(q_ci[0], p_ci[1])],
        "availability_ratio": avail(t_rr[0], t_s[0]),
        "availability_ratio_ci95": [avail(t_rr[1], t_s[2]), avail(t_rr[2], t_s[1])],
        "fault_bugs_injected": {"keep": k["bugs"], "mono": m["bugs"]},
        "fault_invocations": {"keep": k["invocations"], "mono": m["invocations"]},
        "fault_hung_runs": {"keep": k["hung"], "mono": m["hung"]},
        "t_r_unanswered": unanswered,
        "t_r_inprocess_ms": round(mean_ci([t / 1000 for t in m["t_us"]])[0] or 0, 3),
    }
    for key in ("reliability_ratio", "availability_ratio"):
        v = fig[key]
        fig[key] = float(f"{v:.6g}") if v != float("inf") else "inf"
        fig[key + "_ci95"] = [float(f"{x:.6g}") if x != float("inf") else "inf"
                              for x in fig[key + "_ci95"]]
    return {key + suffix: v for key, v in fig.items()}


def faults(short=False, pico=True, unix=True, progress=print):
    """The fault side: the campaign on both builds, t_r on the board, per target."""
    fig = {}
    if unix:
        t0 = time.monotonic()
        n = FAULT_N_SHORT if short else FAULT_N_UNIX
        r = unixport.run([str(PROGRAM), "faults", str(n), str(FAULT_PPM)], heap="256K",
                         path=(FIRMWARE, fwtest.FW_LIB), cwd=HERE, timeout=1200, merge_stderr=True)
        if r.returncode:
            raise KeepError(f"tradeoff_mp.py faults on the unix port failed:\n{r.stdout[-2000:]}")
        camp = _json(r.stdout, "the unix port")
        t_r, lost = reboot_times("unix", REBOOTS_SHORT if short else REBOOTS_UNIX, progress)
        fig.update(fault_figures(camp, t_r, lost))
        fig["tradeoff_faults"] = {"unix": camp}
        progress(f"  faults unix: p {fig['p_system_down_per_invocation_monolithic']:.4f} "
                 f"q {fig['q_system_down_per_invocation_keep']:.4f} t_s {fig['t_s_ms']} ms "
                 f"t_r {fig['t_r_ms']} ms ({time.monotonic() - t0:.0f} s wall)")
    if pico and not short:
        t0 = time.monotonic()
        got = pico_part(fig, "faults on the emulated Pico", ["faults", FAULT_N_PICO, FAULT_PPM], progress)
        if got is not None:
            t_r, lost = reboot_times("rpi_pico", REBOOTS_PICO, progress)
            fig.update(fault_figures(got[0], t_r, lost, "_pico"))
            fig.setdefault("tradeoff_faults", {})["pico"] = got[0]
            progress(f"  faults pico: p {fig['p_system_down_per_invocation_monolithic_pico']:.4f}"
                     f" q {fig['q_system_down_per_invocation_keep_pico']:.4f} t_s "
                     f"{fig['t_s_ms_pico']} ms t_r {fig['t_r_ms_pico']} ms "
                     f"({time.monotonic() - t0:.0f} s wall)")
    return fig


def tcb():
    import tradeoff_tcb

    return tradeoff_tcb.figures(tradeoff_tcb.measure())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true",
                    help="a few ops of each measurement, nothing written (the host test)")
    ap.add_argument("--no-pico", action="store_true", help="leave the emulated Pico out")
    ap.add_argument("--no-callgrind", action="store_true", help="leave callgrind out")
    ap.add_argument("--pico-only", action="store_true",
                    help="only the emulated Pico's figures (the unix port's stay as they are)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    fig = {"tradeoff_errors": []}
    unix = not a.pico_only
    for part in (lambda: cost(a.short, not a.no_pico, not a.no_callgrind, unix),
                 lambda: faults(a.short, not a.no_pico, unix), tcb):
        got = part()
        fig["tradeoff_errors"] += got.pop("tradeoff_errors", [])
        fig.update(got)
        if not a.short:
            old = load()
            for key in ("tradeoff_cost", "tradeoff_faults"):  # per target: keep the others'
                if key in got:
                    got[key] = {**old.get(key, {}), **got[key]}
            merge(got)  # each part as it ends: a later failure keeps the figures made
    if "tcb_code_lines" in fig:
        print(f"  trusted core: Keep {fig['tcb_code_lines']} code lines ({fig['tcb_share']:.0%} of "
              f"the board's), monolithic {fig['tcb_code_lines_monolithic']} (all)")
    fig["tradeoff_wall_s"] = round(time.monotonic() - t0, 1)
    if a.json:
        print(json.dumps(fig))
    if not a.short:
        merge({"tradeoff_wall_s": fig["tradeoff_wall_s"], "tradeoff_errors": fig["tradeoff_errors"]})
        from tradeoff_doc import write_doc

        path = write_doc()
        print(f"  wrote bench/results.json and {path.relative_to(HERE.parent)} "
              f"in {fig['tradeoff_wall_s']:.0f} s")
    for e in fig["tradeoff_errors"]:
        print(f"  FAILED: {e}")
    return 1 if fig["tradeoff_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
