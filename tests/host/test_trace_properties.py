"""Property tests for the trace decoder (hypothesis, CPython)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keep_host import abi
from keep_host.trace import Decoder, Splitter
from keep_host.trace import frame as fr

KINDS = sorted(k for k in abi.TR_NAMES if k != abi.TR_TEXT)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

records = st.lists(
    st.builds(fr.record, st.sampled_from(KINDS), st.integers(0, 255),
              st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)),
    max_size=abi.FRAME_MAX_RECORDS)


def run(data, cuts=()):
    dec = Decoder()
    items, last = [], 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        items += dec.feed(data[last:cut])
        last = cut
    items += dec.feed(data[last:])
    items += dec.finish()
    return items, dec.counters


@SETTINGS
@given(st.binary(max_size=600), st.lists(st.integers(0, 10_000), max_size=6))
def test_any_bytes_never_crash_and_chunking_does_not_matter(data, cuts):
    items, c = run(data, cuts)
    whole, _ = run(data)
    assert [i.as_dict() for i in items] == [i.as_dict() for i in whole]
    for i in items:
        if i.type == "text":
            assert "\x1e" not in i.text
            assert not any("\udc80" <= ch <= "\udcff" for ch in i.text)


@SETTINGS
@given(st.lists(st.sampled_from([0x1E] + list(range(0x80, 0xC0))), max_size=600))
def test_frame_like_bytes_never_show_as_text(data):
    # Damaged frames and stray frame bytes are counted, never turned into text.
    items, c = run(bytes(data))
    assert not [i for i in items if i.type == "text"]
    assert c.frames_ok + c.frames_corrupt + c.garbage_bytes > 0 or not data


@SETTINGS
@given(st.lists(st.tuples(st.binary(max_size=40), records), min_size=1, max_size=8),
       st.binary(max_size=40))
def test_every_valid_frame_in_garbage_is_recovered(parts, tail):
    data = b""
    want = []
    for seq, (garbage, recs) in enumerate(parts):
        data += garbage + fr.encode_frame(recs, seq)
        want.append((seq, b"".join(r[:abi.TR_WIRE_LEN[r[0]]] for r in recs)))
    data += tail
    sp = Splitter()
    got = [(it[1], it[2]) for it in sp.feed(data) + sp.finish() if it[0] == "frame"]
    for w in want:
        assert w in got


@SETTINGS
@given(records, st.integers(0, 0xFFFF))
def test_round_trip(recs, seq):
    frame = fr.encode_frame(recs, seq)
    got_seq, body = fr.decode_body(frame[1:])
    assert got_seq == seq
    walked = list(fr.iter_records(body))
    assert len(walked) == len(recs)
    for (kind, slot, a, b, _), rec in zip(walked, recs, strict=True):
        w = abi.TR_WIRE_LEN[rec[0]]
        assert fr.record(kind, slot, a, b)[:w] == rec[:w]
    items, c = run(b"text\n" + frame)
    assert c.frames_ok == 1 and c.frames_corrupt == 0


@SETTINGS
@given(st.binary(min_size=0, max_size=300))
def test_pack6_round_trip(data):
    enc = fr.pack6(data)
    assert all(0x80 <= b <= 0xBF for b in enc)
    assert fr.unpack6(enc)[:len(data)] == data
