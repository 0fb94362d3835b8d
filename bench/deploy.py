"""Deploy figures for bench/results.json: deploy_full_s and deploy_noop_s.

    .venv/bin/python bench/deploy.py            # prints the figures, merges them

Starts a fresh virtual board (the unix port behind socket://), deploys the
console_demo test app with the test main.py (tests/host/data) once to an
empty flash (deploy_full_s: every file compiled from a warm cache and
copied) and again with nothing changed (deploy_noop_s; goal <= 1 s). The
first deploy uses a cold mpy-cross cache as well (deploy_full_cold_s).
Merges its keys into bench/results.json, keeping every other key.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "host"))

from vboard_app import HEAP, app_copy, firmware_tree  # noqa: E402

from keep_host.deploy import deploy  # noqa: E402
from keep_host.vboard import VirtualBoard  # noqa: E402


def one_board(tmp, cache, runs):
    flash = tmp / f"flash{len(list(tmp.glob('flash*')))}"
    flash.mkdir()
    fw, app = firmware_tree(tmp / flash.name), app_copy(tmp / flash.name)
    out = []
    with VirtualBoard(flash, heap=HEAP) as vb:
        vb.wait_output(">>> ", 10)
        for _ in range(runs):
            t = time.perf_counter()
            r = deploy(vb.url, app, firmware=fw, cache=cache)
            out.append((time.perf_counter() - t, len(r.uploaded), len(r.up_to_date)))
            vb.wait_output("kernel running", 10)
    return out


def main():
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cold = one_board(tmp, tmp / "cache", 1)[0]
        runs = one_board(tmp, tmp / "cache", 4)
    full, files, _ = runs[0]
    noops = sorted(r[0] for r in runs[1:])
    fig = {
        "deploy_full_cold_s": round(cold[0], 3),
        "deploy_full_s": round(full, 3),
        "deploy_noop_s": round(noops[len(noops) // 2], 3),  # median of 3
        "deploy_files": files,
    }
    print(json.dumps(fig))
    sys.path.insert(0, str(ROOT / "bench"))
    from resultsfile import merge

    merge(fig)


if __name__ == "__main__":
    main()
