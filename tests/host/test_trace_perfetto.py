"""The exports of a real chaos-demo trace: Perfetto's arrows land, tasks have
their names, and every export tells time the same way (CPython).

The recording, data/traces/chaos-demo-10s.bin, is the console of the chaos
demo on the unix virtual board from its boot on, made with
`keep demo --seconds 10 --record tests/host/data/traces/chaos-demo-10s.bin`:
5,818 trace records, 3 faults and restarts of the flaky server, 4 sends the
kernel refused while flaky was dead. tests/host/test_demo.py checks the same
rules on a fresh run.
"""

import csv
import io
import json
import re

import pytest
from perfetto_import import arrows, check_arrows, load
from rich.console import Console

from keep_host import cli
from keep_host.paths import ROOT
from keep_host.trace import BoardState, Decoder, decode_bytes, read_recording
from keep_host.trace import export_csv, export_perfetto, export_vcd
from keep_host.trace.view import render

CHAOS = ROOT / "tests" / "host" / "data" / "traces" / "chaos-demo-10s.bin"
NAMES = {0: "supervisor", 1: "gpio", 2: "uart", 3: "spi", 4: "flaky", 5: "chaos"}


@pytest.fixture(scope="module")
def chaos():
    items, counters = read_recording(CHAOS)
    assert counters.frames_ok > 300 and counters.frames_corrupt == 0
    return items


def events(items, kind):
    return [i for i in items if i.type == "event" and i.kind == kind]


def test_every_send_and_reply_of_the_chaos_demo_has_its_arrow(chaos):
    tl, landed = check_arrows(chaos)
    assert len(events(chaos, "send")) == 1068 and len(landed) == 1063 + 1063
    # The 4 sends never received went to flaky while it was dead (between
    # its fault and its restart): the kernel refused them (E_DEAD).
    dead = []
    down = None
    for e in chaos:
        if e.type != "event":
            continue
        if e.kind == "fault" and e.slot == 4:
            down = e.t_us
        elif e.kind == "restart" and e.slot == 4:
            dead.append((down, e.t_us))
    assert len(tl.unreceived) == 4
    for e in tl.unreceived:
        assert e["peer"] == 4 and not e["delivered"]
        assert any(a <= e.t_us <= b for a, b in dead)
    # one send at the very end: flaky took it, but did not run again before
    # the recording stopped
    assert [f.name for f in tl.open] == ["send"]


def test_arrows_go_from_the_running_slice_to_where_the_peer_runs(chaos):
    tl, landed = check_arrows(chaos)
    starts = {}
    for sl in tl.slices:
        starts.setdefault(sl.slot, []).append(sl.start)
    for s_ev, f_ev, out, into in landed:
        assert out.ts <= into.ts
        # the end is the receiver's slice running at that moment or its next
        # one: no slice of the receiver starts between the two ends
        assert not [t for t in starts[into.track[1]] if out.ts < t < into.ts]


def test_the_model_gives_perfettos_own_answer():
    # Perfetto's diff test parser/parsing/flow_events_json_v1 (test/trace_processor/
    # diff_tests/parser/parsing/flow_events_json_v1.json and tests.py, commit
    # ec5d16b): the trace, without its unused args, and the flow table it expects.
    def ev(ph, name, pid, tid, ts, **kv):
        return {"cat": "ipc", "ph": ph, "name": name, "pid": pid, "tid": tid, "ts": ts, **kv}

    doc = {"traceEvents": [
        ev("X", "SenderA", 15902, 15903, 3002, dur=10),
        ev("s", "IPC", 15902, 15903, 3002, id="0x402"),
        ev("X", "SenderB", 15903, 15904, 0, dur=10),
        ev("s", "IPC", 15903, 15904, 1, id="0x403"),
        ev("f", "IPC", 15875, 15895, 1001, id="0x403"),
        ev("X", "Blergh", 15875, 15895, 1002, dur=100),
        ev("X", "OtherSlice", 15774, 15794, 3200, dur=500),
        ev("t", "IPC", 15774, 15794, 3220, id="0x402"),
        ev("f", "IPC", 15874, 15894, 3330, id="0x402"),
        ev("X", "SomeSlice", 15874, 15894, 3331, dur=400),
    ]}
    res = load(doc)
    assert res.pairs() == [("SenderB", "Blergh"), ("SenderA", "OtherSlice"),
                           ("OtherSlice", "SomeSlice")]
    assert res.errors == {}


def test_the_old_placements_do_not_land():
    # The export before: the recv end on a server that is not running binds to
    # the server's finished slice, and Perfetto draws the arrow backwards.
    doc = {"traceEvents": [
        {"name": "gpio", "ph": "X", "ts": 0, "dur": 5, "pid": 1, "tid": 1},
        {"name": "chaos", "ph": "X", "ts": 10, "dur": 5, "pid": 1, "tid": 5},
        {"name": "send", "cat": "ipc", "ph": "s", "id": 1, "ts": 10, "pid": 1, "tid": 5},
        {"name": "send", "cat": "ipc", "ph": "f", "bp": "e", "id": 1, "ts": 10, "pid": 1, "tid": 1},
    ]}
    landed, res = arrows(doc)
    assert landed == [] and res.pairs() == [("gpio", "chaos")]
    # A flow event written before its slice, at the slice's start: when the
    # slice has no length it is processed after the flow, which finds no slice.
    doc = {"traceEvents": [
        {"name": "reply", "cat": "ipc", "ph": "s", "id": 2, "ts": 20, "pid": 1, "tid": 3},
        {"name": "spi", "ph": "X", "ts": 20, "dur": 0, "pid": 1, "tid": 3},
    ]}
    assert load(doc).errors == {"flow_no_enclosing_slice": 1}


def test_tracks_and_slices_are_named_by_the_board(chaos):
    doc = export_perfetto.build(chaos)  # no --names
    tracks = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"]
              if e["ph"] == "M" and e["name"] == "thread_name"}
    assert tracks == {**{s: f"{n} [{s}]" for s, n in NAMES.items()}, 255: "kernel [255]"}
    names = {e["name"] for e in doc["traceEvents"] if e["ph"] == "X"}
    assert {"chaos (gen 0)", "flaky (gen 0)", "flaky (gen 3)", "supervisor (gen 0)"} <= names
    assert not [n for n in names if re.match(r"task\d", n)]


def test_a_recording_that_missed_the_boot_learns_the_names():
    data = CHAOS.read_bytes()
    items, c = decode_bytes(data[len(data) // 3:])  # starts mid-frame, seconds after boot
    assert not events(items, "boot") and events(items, "name")
    doc = export_perfetto.build(items)
    names = {e["name"] for e in doc["traceEvents"] if e["ph"] == "X"}
    assert "chaos (gen 0)" in names and not [n for n in names if n.startswith("task")]
    check_arrows(items)


def test_monitor_table_takes_the_board_names(chaos, capsys):
    dec = Decoder()
    board = BoardState({}, dec.counters)
    data = CHAOS.read_bytes()
    for it in dec.feed(data) + dec.finish():
        board.apply(it)
    assert {s: t.name for s, t in board.tasks.items()} == NAMES
    assert board.tasks[4].generation == 3
    con = Console(record=True, width=160)
    con.print(render(board))
    table = con.export_text()
    assert "flaky" in table and "task4" not in table
    # the user's --names still wins over the board's
    rc = cli.main(["monitor", "--replay", str(CHAOS), "--plain", "--names", "4=buggy"])
    out = capsys.readouterr().out
    assert rc == 0 and "buggy" in out and "] flaky " not in out


def test_the_same_edge_has_the_same_time_in_every_export(chaos):
    pins = events(chaos, "pin")
    assert len(pins) > 10
    doc = export_perfetto.build(chaos)
    perfetto = [(e["ts"], e["args"]["level"]) for e in doc["traceEvents"]
                if e["ph"] == "C" and e["name"] == "pin 2"]
    buf = io.StringIO()
    export_csv.write(chaos, buf)
    rows = [r for r in csv.DictReader(io.StringIO(buf.getvalue())) if r["kind"] == "pin"]
    table = [(int(r["t_us"]), int(r["level"])) for r in rows]
    buf = io.StringIO()
    export_vcd.write(chaos, buf)
    head, body = buf.getvalue().split("$enddefinitions $end\n")
    assert "$timescale 1 us $end" in head
    vcd, t = [], 0
    for line in body.splitlines():
        if line.startswith("#"):
            t = int(line[1:])
        elif line[:1] in "01":
            vcd.append((t, int(line[0])))
    assert perfetto == table
    # the VCD dumps changes only: every edge of the other two is in it, at the same µs
    edges = [p for i, p in enumerate(perfetto) if i == 0 or p[1] != perfetto[i - 1][1]]
    assert vcd == edges and len(edges) > 10
    # µs, not ms: the times are not whole milliseconds
    assert any(t % 1000 for t, _ in vcd)
    # and the board clock is kept beside them
    t0 = doc["otherData"]["board_us_at_0"]
    assert all(int(r["board_t_us"]) - t0 == int(r["t_us"]) for r in rows)
    assert f"time 0 is board time {t0} us" in head


def test_export_is_in_the_importers_order(chaos):
    # Perfetto processes by time, slices first at equal times; writing the
    # file in that order also suits viewers that read in file order.
    evs = [e for e in export_perfetto.build(chaos)["traceEvents"] if e["ph"] != "M"]
    assert all(a["ts"] <= b["ts"] for a, b in zip(evs, evs[1:], strict=False))
    json.dumps(evs)  # plain JSON types only


def test_howto_perfetto_counts_are_this_recordings(chaos):
    # docs/howto-perfetto.md's table counts the export of this recording
    doc = (ROOT / "docs" / "howto-perfetto.md").read_text()
    evs = export_perfetto.build(chaos)["traceEvents"]

    def n(ph, **kv):
        return sum(1 for e in evs if e["ph"] == ph and all(e.get(k) == v for k, v in kv.items()))

    assert f"perfetto, {sum(1 for i in chaos if i.type == 'event')} events" in doc
    assert f"| {n('X')} |" in doc
    for row, name in (("arrows send → recv", "send"), ("arrows reply → client", "reply")):
        count = re.search(rf"\*\*{row}\*\*.*\| (\d+) \|$", doc, re.M)
        assert count and int(count.group(1)) == n("s", name=name), row
    assert (f"| {n('i', cat='timeout')} timeouts, {n('i', cat='fault')} faults, "
            f"{n('i', cat='restart')} restarts, {n('i', cat='log')} logs, "
            f"{n('i', cat='ipc')} sends not received |") in doc
    assert f"| {n('C', name='heap')} + {n('C', name='pin 2')} |" in doc
    assert f"| {n('M', name='thread_name')} tracks |" in doc
