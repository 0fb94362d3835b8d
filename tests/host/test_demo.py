"""make demo: keep deploy the chaos app to a real virtual board; numbers from the board."""

import re

from perfetto_import import check_arrows

from keep_host import abi, cli, demo
from keep_host.trace import encode_frame, log_records, read_recording, record


def test_demo_survives_restarts_and_loses_nothing(capsys, tmp_path):
    rec = tmp_path / "chaos.bin"
    assert cli.main(["demo", "--seconds", "6", "--record", str(rec)]) == 0
    out = capsys.readouterr().out
    # deployed with keep deploy, booted by firmware/main.py -> runtime.boot (console channel too)
    assert re.search(r"deployed chaos to socket://\S+ \(unix\): \d+ uploaded", out)
    assert "keep: kernel running, 6 tasks (app chaos on unix)" in out
    # the trace showed the flaky server faulting and being restarted
    assert "FAULT    flaky" in out and "RESTART  flaky" in out
    summary = out[out.index("chaos demo:"):]
    restarts = int(re.search(r"server restarts\s+(\d+)", summary).group(1))
    lost = int(re.search(r"messages lost\s+(\d+)", summary).group(1))
    served = re.search(r"requests served\s+(\d+) of (\d+)", summary)
    assert restarts >= 1
    assert lost == 0
    assert int(served.group(1)) > 100
    # the chaos app's trace ring (64 records, its app.toml) is big enough:
    # none dropped on an idle machine, a few under heavy host load
    dropped = int(re.search(r"records dropped on board (\d+)", summary).group(1))
    events = int(re.search(r"trace\s+(\d+) events", summary).group(1))
    assert events > 1000 and dropped * 100 <= events
    peak = int(re.search(r"demo_peak_heap_bytes=(\d+)", summary).group(1))
    assert 20_000 < peak < 1_000_000
    from keep_host.boards import load_board

    assert peak < load_board("unix").heap_bytes  # the board file's heap holds the demo
    # the recording exports to Perfetto with an arrow for every message
    # (Perfetto's binding rules, tests/host/perfetto_import.py)
    items, counters = read_recording(rec)
    assert counters.frames_ok > 50 and counters.frames_corrupt == 0
    tl, landed = check_arrows(items)
    assert len(landed) > 200 and all(e["peer"] == 4 for e in tl.unreceived)


def test_demo_runs_in_a_64k_heap(capsys):
    # The figure, end to end: kernel, supervisor, three servers and
    # the chaos app in `micropython -X heapsize=64K` (the ROMFS partition
    # the virtual board maps is on top, as flash is on a board).
    assert cli.main(["demo", "--seconds", "8", "--heap", "64K"]) == 0
    out = capsys.readouterr().out
    assert "MemoryError" not in out
    summary = out[out.index("chaos demo:"):]
    assert int(re.search(r"messages lost\s+(\d+)", summary).group(1)) == 0
    assert int(re.search(r"server restarts\s+(\d+)", summary).group(1)) >= 1
    assert int(re.search(r"requests served\s+(\d+)", summary).group(1)) > 100
    assert re.search(r"faults\s+flaky \d+\n", summary)  # nobody else faulted
    assert "of a 64K heap (--heap); the 64 KB goal is met" in summary


def test_summary_numbers_come_from_the_board_lines():
    w = demo._Watcher({4: "flaky", 5: "chaos"}, out=lambda s: None)
    assert demo.task_names("chaos", "unix")[6] == "console"  # runtime.boot's proxy, after the app

    recs = log_records(5, b"chaos: requests=10 served=7 errors=3 lost=0 dead=2 bad=1 "
                          b"restarts=2 drivers=0")
    recs += [record(abi.TR_RESTART, 4, 1, 1), record(abi.TR_RESTART, 4, 2, 2),
             record(abi.TR_HEAP, abi.KERNEL_SLOT, 0, 12345), record(abi.TR_HEAP, abi.KERNEL_SLOT, 0, 999)]
    w.feed(b"keep: kernel running\n" + encode_frame(recs, 0))
    w.finish()
    r = w.res
    assert r.chaos == {"requests": 10, "served": 7, "errors": 3, "lost": 0, "dead": 2,
                       "bad": 1, "restarts": 2, "drivers": 0}
    assert r.restarts == {"flaky": 2}
    assert r.heap_peak == 12345
    lines = "\n".join(r.summary_lines())
    assert "requests served       7 of 10" in lines and "messages lost         0" in lines
