"""Kernel fuzzing campaign (CPython wrapper around tests/firmware/fuzz_kernel.py).

Runs the fuzzer on the MicroPython unix port for at least SYSCALLS syscalls
(default 100,000) from SEED, twice: as is (every argument class, so known
kernel bugs count), and with --avoid-known (skips the argument classes of
bugs already reported, to show whether anything *else* mismatches). Merges
into bench/results.json without touching other keys:

  fuzz_syscalls            syscalls issued and checked (first run)
  fuzz_kernel_deaths       exceptions that escaped kernel.run (goal 0)
  fuzz_model_mismatches    rounds where kernel and model disagreed (goal 0)
  fuzz_mismatches_avoiding_known   the same, known argument bugs skipped

    python bench/fuzz.py [SYSCALLS] [SEED]

Exit status 1 when a goal is missed.
"""

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import unixport  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402
from resultsfile import RESULTS, merge  # noqa: E402

FUZZER = ROOT / "tests" / "firmware" / "fuzz_kernel.py"


def run(syscalls, seed, avoid=False):
    args = [str(FUZZER), str(seed), str(syscalls), "json"] + (["--avoid-known"] if avoid else [])
    t0 = time.monotonic()
    res = unixport.run(args, heap="2M", path=(FIRMWARE, ROOT / "tests" / "firmware" / "lib"),
                       cwd=FUZZER.parent, timeout=1800, merge_stderr=True)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode or not lines:
        raise SystemExit("fuzz: the unix port run failed (exit %s):\n%s" % (res.returncode, res.stdout[-3000:]))
    figures = json.loads(lines[-1])
    reports = [ln for ln in res.stdout.splitlines() if not ln.startswith("{")]
    return figures, reports, time.monotonic() - t0



def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    syscalls = int(argv[0]) if argv else 100_000
    seed = int(argv[1]) if len(argv) > 1 else 1
    full, reports, secs = run(syscalls, seed)
    avoid, reports2, secs2 = run(syscalls, seed, avoid=True)
    out = {
        "fuzz_syscalls": full["fuzz_syscalls"],
        "fuzz_kernel_deaths": full["fuzz_kernel_deaths"] + avoid["fuzz_kernel_deaths"],
        "fuzz_model_mismatches": full["fuzz_model_mismatches"],
        "fuzz_mismatches_avoiding_known": avoid["fuzz_model_mismatches"],
        "fuzz_rounds": full["fuzz_rounds"],
        "fuzz_seed": seed,
        "fuzz_seconds": round(secs, 1),
    }
    merge(out)
    for k in sorted(out):
        print(f"{k:32} {out[k]}")
    for r in (reports + reports2)[:6]:
        print(r[:300])
    bad = out["fuzz_kernel_deaths"] or out["fuzz_model_mismatches"]
    print("fuzz:", "GOALS MISSED" if bad else "all goals met", f"-> {RESULTS.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
