"""Trace stream integrity: sequence numbers run on, nothing lost or dropped
at the default rate, with the load running."""

import time

LOAD = 2


def test_sequence_numbers_are_contiguous_under_load(dut):
    m = dut.mark()
    dut.call("hil", LOAD, b"\x01")
    try:
        time.sleep(2.0)
    finally:
        dut.call("hil", LOAD, b"\x00")
        dut.expect(r"load: off ok=", timeout=3, since=m)  # switched off before the next test
    counts = dut.assert_no_frames_lost(since=m)
    assert counts["frames_ok"] > 50, counts
    seqs = []
    for ev in dut.events(since=m):
        if not seqs or seqs[-1] != ev.seq:
            seqs.append(ev.seq)
    gaps = [(a, b) for a, b in zip(seqs, seqs[1:], strict=False) if (b - a) & 0xFFFF != 1]
    assert not gaps, f"sequence gaps {gaps[:5]}"
    assert len(dut.events(kind="send", task="load", since=m)) > 100
