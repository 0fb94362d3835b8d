"""Trace stream integrity: sequence numbers run on, nothing lost or dropped
at the default rate, with the load running."""


LOAD = 2


def test_sequence_numbers_are_contiguous_under_load(dut):
    m = dut.mark()
    dut.call("hil", LOAD, b"\x01")
    try:
        # At least 2 s and 60 frames of load, in board time: a slower board
        # (the emulated Pico) takes longer to send as many frames.
        end = dut.clock.now() + 20.0
        dut.sleep(2.0)
        while dut.frames(m)["frames_ok"] <= 60 and dut.clock.now() < end:
            dut.sleep(0.25)
    finally:
        dut.call("hil", LOAD, b"\x00")
        dut.expect(r"load: off ok=", timeout=3, since=m)  # switched off before the next test
    # Contiguity is the decoder's to judge, frame by frame: a frame whose
    # number does not follow the last one is counted lost (or a reset, or a
    # duplicate). Event numbers cannot show it: an event carries the number
    # of the frame its first record came in, so a frame that only finishes a
    # log line begun in the previous one has no event of its own.
    counts = dut.assert_no_frames_lost(since=m)
    assert counts["frames_ok"] > 50, counts
    assert counts["seq_resets"] == 0 and counts["frames_duplicated"] == 0, counts
    seqs = []
    for ev in dut.events(since=m):
        if not seqs or seqs[-1] != ev.seq:
            seqs.append(ev.seq)
    back = [(a, b) for a, b in zip(seqs, seqs[1:], strict=False) if not 0 < (b - a) & 0xFFFF < 0x8000]
    assert not back, f"events out of frame order {back[:5]}"
    assert len(seqs) > counts["frames_ok"] // 2, "most frames decode to events of their own"
    assert len(dut.events(kind="send", task="load", since=m)) > 100
