"""The benchmark programs still run and their invariants hold.

Not timing (benchmarks report times, tests never assert them): a short
chaos campaign must end with no kernel death and no lost message, and the
kernel bench's round trip must allocate nothing, on the unix port and on
the emulated Pico.
"""

import json

import pytest

from keep_host import unixport
from keep_host.paths import FIRMWARE, ROOT
from keep_host.vboard.pico import EmulatedPico, node_or_none

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
    # max_client_block_ms is a time (wall ms on the unix port): the bench
    # reports it against the client timeout, a test does not assert it
    assert set(fig["fault_kinds"]) == {"exception", "memory", "budget_time", "budget_heap",
                                       "stale", "malformed"}


def test_kernel_bench_round_trip_allocates_nothing():
    fig = _json_line("kernel_bench.py", 300)
    assert fig["ipc_alloc_bytes_per_roundtrip"] == 0
    assert fig["asyncio_alloc_bytes_per_roundtrip"] > 0  # the comparison really ran
    for key in ("ipc_roundtrip_us", "asyncio_roundtrip_us", "ipc_vs_asyncio_ratio",
                "task_overhead_bytes", "trace_write_us"):
        assert fig[key] > 0


@pytest.mark.skipif(node_or_none() is None,
                    reason="the emulated Pico needs Node.js >= 18, not installed here")
def test_kernel_bench_runs_on_the_emulated_pico(tmp_path, monkeypatch):
    """bench/pico_bench.py's board part with tiny counts: the same programs
    run on the rp2 firmware, every key comes back, nothing allocates."""
    monkeypatch.syspath_prepend(str(BENCH))
    import pico_bench

    with EmulatedPico(tmp_path / "flash") as pico:
        pico_bench.deploy_firmware(pico.url)
        fig = pico_bench.board_benches(pico.url, keep_n=20, asyncio_n=30, rounds=1, trace_n=50,
                                       restart_runs=2)
    assert fig["alloc_counted_by_pico"] == "gc.mem_alloc"  # rp2 has no mem_total
    assert fig["ipc_alloc_bytes_per_roundtrip_pico"] == 0
    assert fig["asyncio_alloc_bytes_per_roundtrip_pico"] > 0  # the comparison really ran
    assert fig["restart_latency_runs_pico"] == 2
    for key in ("ipc_roundtrip_us_pico", "asyncio_roundtrip_us_pico",
                "asyncio_fresh_roundtrip_us_pico", "ipc_vs_asyncio_ratio_pico",
                "task_overhead_bytes_pico", "trace_write_us_pico", "restart_latency_ms_pico"):
        assert fig[key] > 0, key
