"""docs/img/make_pictures.py: its pieces on a recorded chaos-demo trace (the
whole script runs the demo for 10 s, so `make test` does not run it)."""

import importlib.util

from keep_host.paths import ROOT

CHAOS = ROOT / "tests" / "host" / "data" / "traces" / "chaos-demo-10s.bin"


def load_script():
    spec = importlib.util.spec_from_file_location("make_pictures",
                                                  ROOT / "docs" / "img" / "make_pictures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pictures_from_a_recording(tmp_path):
    mp = load_script()
    assert mp.main(["--from", str(CHAOS), "--out", str(tmp_path)]) == 0
    for name in (mp.TIMELINE, mp.PINS):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    svg = (tmp_path / mp.MONITOR).read_text()
    assert svg.startswith("<svg") and "supervisor" in svg and "flaky" in svg
    assert "task4" not in svg  # the board's names, not slots


def test_timeline_draws_the_exported_arrows_around_the_crash():
    mp = load_script()
    items, _ = mp.decode(CHAOS)
    trace = mp.Trace(mp.export_perfetto.build(items))
    # every arrow of the export is found at its two slices
    assert len(trace.arrows) == 2126
    (lo, hi), (zlo, zhi), t = mp._window(trace)
    fault = next(m for m in trace.marks if m["cat"] == "fault")
    assert fault["ts"] == t and lo < zlo < t < zhi < hi
    # the zoom holds the rc dead answer to the request flaky died with
    dead = [a for name, label, a, b in trace.arrows if label == "rc dead" and zlo <= b["ts"] <= zhi]
    assert dead and dead[0]["tid"] == fault["tid"]


def test_vcd_reader_reads_the_export():
    mp = load_script()
    waves, scale = mp.read_vcd("$timescale 1 us $end\n$scope module board $end\n"
                               "$var wire 1 ! pin2 $end\n$upscope $end\n$enddefinitions $end\n"
                               "#0\n$dumpvars\nx!\n$end\n#1500\n1!\n#2750\n0!\n")
    assert scale == "1 us" and waves == {"pin2": [(0, "x"), (1500, "1"), (2750, "0")]}
