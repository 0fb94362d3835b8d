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
from resultsfile import merge  # noqa: E402

PROGRAM = HERE / "tradeoff_mp.py"
BUILDS = ("keep", "mono")
N_UNIX = 300  # ops timed per op and build on the unix port
ROUNDS_UNIX = 5  # the median of 5 alternating rounds: the host's load moves unix timings  # on the emulated Pico (~20 s of wall time a build)
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


def run_pico():
    """tradeoff_mp.py on an emulated Pico of its own (its defaults: a board
    has no command line)."""
    from keep_host.fwboard import EmulatedBoard, workdir_for
    from keep_host.vboard.pico import node_or_none

    if node_or_none() is None:
        return None
    with EmulatedBoard(workdir_for("rpi_pico", "tradeoff")) as board:
        board.setup([PROGRAM])
        res = board.run(PROGRAM)
    if res.returncode:
        raise KeepError(f"tradeoff_mp.py on the emulated Pico failed:\n{res.output[-2000:]}")
    return _json(res.output, "the emulated Pico")


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


def cost(short=False, pico=True, cg=True, progress=print):
    """The cost side: results keys and the raw figures (tradeoff_cost)."""
    fig, raw = {}, {}
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
        p = run_pico()
        if p is None:
            progress("  emulated Pico: skipped, Node.js >= 18 not installed")
        else:
            raw["pico"] = p
            fig.update(ratios(p["us"], "_pico"))
            for op in p["ops"]:
                progress(f"  pico {op:14} keep {p['us']['keep'][op]:8.1f} us  mono "
                         f"{p['us']['mono'][op]:8.1f} us")
            progress(f"  emulated Pico: {time.monotonic() - t0:.0f} s wall")
    fig["tradeoff_cost"] = raw
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true",
                    help="a few ops of each measurement, nothing written (the host test)")
    ap.add_argument("--no-pico", action="store_true", help="leave the emulated Pico out")
    ap.add_argument("--no-callgrind", action="store_true", help="leave callgrind out")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    fig = cost(a.short, not a.no_pico, not a.no_callgrind)
    fig["tradeoff_wall_s"] = round(time.monotonic() - t0, 1)
    if a.json:
        print(json.dumps(fig))
    if not a.short:
        merge(fig)
        from tradeoff_doc import write_doc

        path = write_doc()
        print(f"  wrote bench/results.json and {path.relative_to(HERE.parent)} "
              f"in {fig['tradeoff_wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
