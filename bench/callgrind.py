"""Instructions per Keep round trip, counted by callgrind (deterministic).

Runs bench/roundtrip_mp.py on the unix port under `valgrind --tool=callgrind`
for 200 and 2,200 round trips and prints the difference divided by 2,000,
so start-up and compilation cancel out. Unlike timings on this shared host
the count repeats to a few instructions, which makes it the judge of a
change to the kernel's hot path (docs/performance.md).

    python bench/callgrind.py [--direct] [--firmware DIR]

--firmware measures another tree's firmware/ (a checkout of an older
commit, say) with this roundtrip_mp.py. Needs valgrind; prints nothing to
bench/results.json.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))

from keep_host import unixport  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402

PROGRAM = HERE / "roundtrip_mp.py"


def instructions(n, firmware, direct):
    """Total instructions callgrind collects for one run of n round trips."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
               unixport.micropython_exe(), "-X", "heapsize=512K", str(PROGRAM), str(n)]
        if direct:
            cmd.append("direct")
        env = {"MICROPYPATH": f".frozen:{firmware}", "PATH": "/usr/bin:/bin"}
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    m = re.search(r"Collected : (\d+)", res.stderr)
    if res.returncode or not m or "round trips" not in res.stdout:
        raise SystemExit(f"callgrind run failed (exit {res.returncode}):\n{res.stdout}{res.stderr[-2000:]}")
    return int(m.group(1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--direct", action="store_true", help="the server waits in recv (direct delivery)")
    ap.add_argument("--firmware", default=str(FIRMWARE), help="the firmware/ directory to measure")
    a = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind not found (apt-get install valgrind)")
    lo = instructions(200, a.firmware, a.direct)
    hi = instructions(2200, a.firmware, a.direct)
    print(f"{(hi - lo) / 2000:.0f} instructions per round trip"
          f" ({'direct' if a.direct else 'queued'}; {a.firmware})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
