"""keep monitor and keep trace export, end to end through the CLI (CPython)."""

import csv
import json
import socket
import threading
import time

import pytest
from rich.console import Console

from keep_host import cli
from keep_host.trace import BoardState, decode_bytes, synth
from keep_host.trace.view import render

NAMES = "0=supervisor,1=gpio,2=blinky,3=logger"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "session.bin"
    path.write_bytes(synth.console(seed=3, cycles=120))
    return path


def run(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_replay_json_one_object_per_line(recording, capsys):
    rc, out, err = run(["monitor", "--replay", str(recording), "--json", "--names", NAMES], capsys)
    assert rc == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {"type": "text", "t_us": None, "text": "Keep booting"}
    kinds = {d["kind"] for d in lines if d["type"] == "event"}
    assert {"switch", "send", "recv", "reply", "log", "pin", "heap", "fault", "restart"} <= kinds
    assert any(d.get("task") == "gpio" for d in lines)
    last = lines[-1]
    assert last["type"] == "counters" and last["frames_corrupt"] == 0 and last["frames_ok"] > 10


def test_replay_plain_lines(recording, capsys):
    rc, out, err = run(["monitor", "--replay", str(recording), "--names", NAMES], capsys)
    assert rc == 0
    assert "gpio" in out and "send -> gpio" in out and "app: tick" in out
    assert "frames ok" in err


def test_monitor_socket_records_and_decodes(tmp_path, capsys):
    data = synth.console(seed=4, cycles=30)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        # pyserial's socket:// open() ends by flushing its input: bytes that
        # arrive before it returns are discarded, so let it finish opening.
        time.sleep(0.2)
        for i in range(0, len(data), 500):  # arbitrary chunks
            conn.sendall(data[i:i + 500])
        conn.recv(1)  # hold the line open until the monitor hangs up
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    rec = tmp_path / "rec.bin"
    url = f"socket://127.0.0.1:{srv.getsockname()[1]}"
    rc, out, err = run(["monitor", "--port", url, "--duration", "2", "--json",
                        "--record", str(rec)], capsys)
    srv.close()
    assert rc == 0
    assert rec.read_bytes() == data
    want, _ = decode_bytes(data)
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(want) + 1  # + the counters line


@pytest.mark.parametrize("port, words", [
    ("/dev/ttyKEEP404", "does not exist"),
    ("socket://127.0.0.1:1", "nothing is listening"),
    ("nope://x", "not a port or URL"),
])
def test_bad_port_is_one_line(port, words, capsys):
    rc, out, err = run(["monitor", "--port", port, "--duration", "0.1"], capsys)
    assert rc == 1
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err


def test_render_live_view(recording):
    items, counters = decode_bytes(recording.read_bytes(), {1: "gpio"})
    board = BoardState({1: "gpio"}, counters)
    for it in items:
        board.apply(it)
    con = Console(record=True, width=140)
    con.print(render(board))
    text = con.export_text()
    for word in ("gpio", "recent IPC", "faults and restarts", "frames ok", "restart"):
        assert word in text


def test_export_perfetto(recording, tmp_path, capsys):
    out = tmp_path / "t.json"
    rc, _, _ = run(["trace", "export", str(recording), "--to", "perfetto", "-o", str(out),
                    "--names", NAMES], capsys)
    assert rc == 0
    doc = json.loads(out.read_text())
    evs = doc["traceEvents"]
    assert all({"ph", "pid", "name"} <= set(e) for e in evs)
    names = {e["tid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[1] == "gpio [1]"
    slices = [e for e in evs if e["ph"] == "X"]
    assert slices and all(e["dur"] >= 0 and e["tid"] in names for e in slices)
    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    ends = [e for e in evs if e["ph"] == "f"]
    assert ends and all(e["id"] in starts and starts[e["id"]]["ts"] <= e["ts"] for e in ends)
    # send arrows go from the client to gpio; reply arrows back to the client
    assert any(starts[e["id"]]["name"] == "send" and e["tid"] == 1 for e in ends)
    assert any(starts[e["id"]]["name"] == "reply" and starts[e["id"]]["tid"] == 1 for e in ends)
    # every flow end sits inside a slice of its track
    for e in ends:
        assert any(s["tid"] == e["tid"] and s["ts"] <= e["ts"] <= s["ts"] + s["dur"]
                   for s in slices)
    assert any(e["ph"] == "C" and e["name"] == "heap" for e in evs)
    instants = {e["cat"] for e in evs if e["ph"] == "i"}
    assert {"fault", "restart", "log"} <= instants


def test_export_vcd(recording, tmp_path, capsys):
    out = tmp_path / "t.vcd"
    rc, _, _ = run(["trace", "export", str(recording), "--to", "vcd", "-o", str(out)], capsys)
    assert rc == 0
    text = out.read_text()
    head, body = text.split("$enddefinitions $end\n")
    assert "$timescale 1 us $end" in head and "$var wire 1 ! pin2 $end" in head
    times = [int(line[1:]) for line in body.splitlines() if line.startswith("#")]
    assert times == sorted(times) and len(times) > 5
    values = [line for line in body.splitlines() if line[:1] in "01x" and line.endswith("!")]
    assert values[0] == "x!" and {"0!", "1!"} <= set(values)
    # a change dump: no two successive values of the pin are equal
    assert all(a != b for a, b in zip(values[1:], values[2:], strict=False))


def test_export_csv(recording, tmp_path, capsys):
    out = tmp_path / "t.csv"
    rc, _, _ = run(["trace", "export", str(recording), "--to", "csv", "-o", str(out)], capsys)
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    items, _ = decode_bytes(recording.read_bytes())
    assert len(rows) == sum(1 for i in items if i.type == "event")
    sends = [r for r in rows if r["kind"] == "send"]
    assert sends and sends[0]["peer"] == "1" and sends[0]["op"]


def test_export_needs_a_subcommand_and_a_file(tmp_path, capsys):
    rc, _, err = run(["trace"], capsys)
    assert rc == 2 and "export" in err
    rc, _, err = run(["trace", "export", str(tmp_path / "none.bin"), "--to", "csv",
                      "-o", str(tmp_path / "x.csv")], capsys)
    assert rc == 1 and "cannot read recording" in err
