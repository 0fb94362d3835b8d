"""The trade-off bench's short mode (`bench/tradeoff.py --short`): each
measurement `make tradeoff` makes, a few ops long, so none of them rots.

Not timing (tests never assert times): the invariants the measurements
rest on. Both builds run every op; an injected driver bug never takes
the Keep build down and always takes the monolithic one down; Keep
restarts the driver and the monolithic board comes back from its reset;
the trusted core is a part of what the monolithic build trusts; the page
renders from the figures.
"""

import json
import subprocess
import sys

from keep_host.paths import ROOT

BENCH = ROOT / "bench"


def test_the_short_tradeoff_run_measures_both_builds():
    res = subprocess.run([sys.executable, str(BENCH / "tradeoff.py"), "--short", "--json"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    fig = json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1])
    unix = fig["tradeoff_cost"]["unix"]
    for build in ("keep", "mono"):
        assert set(unix["us"][build]) == set(unix["ops"]), build
        assert all(v > 0 for v in unix["us"][build].values()), build
    for op in unix["ops"]:
        assert fig[f"tradeoff_op_ratio_{op}"] > 0
    camp = fig["tradeoff_faults"]["unix"]
    keep, mono = camp["keep"], camp["mono"]
    assert keep["bugs"] > 0 and mono["bugs"] > 0  # the shim injected bugs in both builds
    assert keep["downs"] == 0 and keep["hung"] == 0  # contained: the system stayed up
    assert mono["downs"] == mono["bugs"] and mono["hung"] == 0  # each bug was a reboot
    assert len(keep["t_us"]) == keep["bugs"]  # every killed driver served again
    assert fig["q_system_down_per_invocation_keep"] == 0
    assert fig["p_system_down_per_invocation_monolithic"] > 0
    assert fig["p_ci95"][0] <= fig["p_system_down_per_invocation_monolithic"] <= fig["p_ci95"][1]
    assert fig["t_s_ms"] > 0 and fig["t_r_ms"] > 0 and fig["t_r_unanswered"] == 0
    assert fig["reliability_ratio"] > 1
    assert 0 < fig["tcb_code_lines"] < fig["tcb_code_lines_monolithic"]
    assert 0 < fig["tcb_share"] < 1
    assert set(fig["tcb_parts"]) >= {"kernel", "runtime", "drivers", "supervisor", "apps"}

    sys.path.insert(0, str(BENCH))
    from tradeoff_doc import render

    page = render(fig)
    assert "| gpio_toggle |" in page and "reliability ratio" in page
    assert f"{fig['tcb_code_lines']:,} code lines" in page
