"""The benchmark programs still run and their invariants hold.

Not timing (benchmarks report times, tests never assert them): a short
chaos campaign must end with no kernel death and no lost message, and the
kernel bench's round trip must allocate nothing.
"""

import json

from keep_host import unixport
from keep_host.paths import FIRMWARE, ROOT

BENCH = ROOT / "bench"


def _json_line(script, *args):
    res = unixport.run([str(BENCH / script), *map(str, args)], heap="512K",
                       path=(FIRMWARE,), timeout=300, merge_stderr=True)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert res.returncode == 0 and lines, res.stdout[-2000:]
    assert "Traceback" not in res.stdout, res.stdout[-2000:]
    return json.loads(lines[-1])


def test_short_chaos_campaign_loses_nothing():
    fig = _json_line("chaos_mp.py", 120)
    assert fig["faults_injected"] >= 120
    assert fig["kernel_deaths"] == 0
    assert fig["lost_messages"] == 0
    assert fig["max_client_block_ms"] <= fig["client_timeout_ms"]
    assert set(fig["fault_kinds"]) == {"exception", "memory", "budget_time", "budget_heap",
                                       "stale", "malformed"}


def test_kernel_bench_round_trip_allocates_nothing():
    fig = _json_line("kernel_bench.py", 300)
    assert fig["ipc_alloc_bytes_per_roundtrip"] == 0
    assert fig["asyncio_alloc_bytes_per_roundtrip"] > 0  # the comparison really ran
    for key in ("ipc_roundtrip_us", "asyncio_roundtrip_us", "ipc_vs_asyncio_ratio",
                "task_overhead_bytes", "trace_write_us"):
        assert fig[key] > 0
