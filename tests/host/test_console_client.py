"""The console client against a fake board: framing, noise, loss, refusals.

The fake answers requests the way firmware/runtime/console.py does (the real
thing runs in tests/firmware/console_channel.py and test_console_vboard.py);
here each error case is quick to provoke.
"""

import json

import pytest

from keep_host import abi, cli
from keep_host.console import ConsoleClient, ConsoleError, crc16, encode_request, parse_reply
from keep_host.errors import KeepError
from keep_host.trace import encode_frame, record

TASKS = [[0, "supervisor", abi.ST_IN_RECV, 0, 0, 0, 0, 255, None],
         [1, "gpio", abi.ST_IN_REPLY, 1, 1, 2, 2, 0, "gpio: injected fault (in_recv) injected"],
         [2, "blinky", abi.ST_IN_SEND, 3, 3, 0, 0, 1, None]]


def reply_line(seq, obj):
    raw = f"={seq:04x} {json.dumps(obj)}".encode()
    return b"\x1f" + raw + b"*%04x\n" % crc16(raw)


class FakeBoard:
    """pyserial-shaped: write() takes requests, read() returns the board's bytes."""

    def __init__(self, answer=None, drop_first=0, noise=True, corrupt_first=0):
        self.answer = answer or self.default
        self.out = bytearray(b"MicroPython booted\n")
        self.writes = []
        self.drop = drop_first
        self.corrupt = corrupt_first
        self.noise = noise
        self.executed = []
        self.closed = False

    @staticmethod
    def default(cmd, args):
        if cmd == "tasks":
            return {"ok": 1, "tasks": TASKS}
        if cmd == "call":
            return {"ok": 1, "rc": 5, "data": "4849"}
        if args and args[0] == "nosuch":
            return {"err": "no task nosuch (tasks: supervisor, gpio, blinky)"}
        return {"ok": 1, "slot": 1, "state": abi.ST_HELD, "id": 0x301,
                "fault": "gpio: injected fault (in_recv) injected"}

    def write(self, data):
        self.writes.append(bytes(data))
        assert b"\x03" not in data and data.startswith(b"\x1f?") and data.endswith(b"\n")
        body, crc = data[1:-1].rsplit(b"*", 1)
        assert int(crc, 16) == crc16(body)
        seq, cmd, *args = body[1:].decode().split()
        if self.drop:
            self.drop -= 1
            return len(data)
        if len(self.executed) == 0 or self.executed[-1][0] != seq:
            self.executed.append((seq, cmd, args))
        obj = self.answer(cmd, args)
        if obj is None:
            return len(data)
        line = reply_line(int(seq, 16), obj)
        if self.corrupt:
            self.corrupt -= 1
            line = line.replace(b'"ok"', b'"OK"')  # CRC no longer matches
        if self.noise:
            # text, a trace frame and a stale reply around the real one
            self.out += b"app: tick\n" + encode_frame([record(abi.TR_SEND, 2, 1, 4)], 7)
            self.out += reply_line((int(seq, 16) - 1) & 0xFFFF, {"err": "stale"})
            self.out += line[:10] + encode_frame([record(abi.TR_RECV, 1, 2, 4)], 8) + line[10:]
        else:
            self.out += line
        return len(data)

    @property
    def in_waiting(self):
        return len(self.out)

    def read(self, n):
        got = bytes(self.out[:n])
        del self.out[:n]
        return got

    def close(self):
        self.closed = True


def client(board, timeout=1.0):
    return ConsoleClient("fake://", timeout=timeout, transport=board, resend_s=0.05)


def test_request_and_reply_round_trip_the_documented_bytes():
    assert encode_request(0x12, ["hold", "gpio"]) == b"\x1f?0012 hold gpio*%04x\n" % crc16(b"?0012 hold gpio")
    assert crc16(b"123456789") == 0x29B1
    line = reply_line(0x12, {"ok": 1}).decode()[:-1]
    assert parse_reply(line) == (0x12, {"ok": 1})
    assert parse_reply(line.replace("ok", "OK")) is None  # CRC
    assert parse_reply("\x1f?0012 hold gpio*0000") is None  # a request (echo) is no reply
    assert parse_reply("plain text") is None
    with pytest.raises(KeepError):
        encode_request(1, ["call", "gpio", "1", "\x03"])


def test_tasks_survive_text_frames_and_stale_replies():
    c = client(FakeBoard())
    rows = c.tasks()
    assert [r.name for r in rows] == ["supervisor", "gpio", "blinky"]
    names = {r.slot: r.name for r in rows}
    assert rows[1].state_text(names) == "in_reply(supervisor)"
    assert rows[2].state_text(names) == "in_send(gpio)"
    assert "app: tick" in c.text


def test_lost_request_is_resent_and_run_once():
    board = FakeBoard(drop_first=2)
    c = client(board)
    assert c.hold("gpio")["state"] == abi.ST_HELD
    assert c.resends >= 2 and len(board.writes) >= 3
    assert len(board.executed) == 1
    assert len({w for w in board.writes}) == 1  # the same SEQ every time


def test_corrupt_reply_is_ignored_and_the_resend_answered():
    c = client(FakeBoard(corrupt_first=1))
    assert c.release("gpio")["ok"] == 1


def test_unknown_task_is_a_console_error():
    with pytest.raises(ConsoleError, match="no task nosuch"):
        client(FakeBoard()).hold("nosuch")


def test_no_answer_names_the_port_and_the_repl():
    board = FakeBoard(answer=lambda cmd, args: None)
    board.out += b"MicroPython v1.29 on linux\n>>> "
    with pytest.raises(KeepError, match=r"no answer to `tasks` from fake:// .*at the REPL"):
        client(board, timeout=0.3).tasks()


def test_fault_kind_names_map_to_abi_numbers():
    board = FakeBoard()
    c = client(board)
    c.fault("gpio", "memory")
    assert board.executed[-1][1:] == ("fault", ["gpio", str(abi.F_MEMORY)])
    with pytest.raises(KeepError, match="unknown fault kind"):
        c.fault("gpio", "bogus")


def test_call_returns_rc_and_bytes():
    board = FakeBoard()
    assert client(board).call("gpio", 2, b"hi") == (5, b"HI")
    assert board.executed[-1][1:] == ("call", ["gpio", "2", "6869"])


# ---- the CLI over the fake (port opening patched) ------------------------------

@pytest.fixture
def fake_port(monkeypatch):
    board = FakeBoard()
    monkeypatch.setattr("keep_host.console.open_port", lambda *a, **k: board)
    return board


def test_cli_tasks_table(fake_port, capsys):
    assert cli.main(["tasks", "--port", "loop://"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["SLOT", "NAME", "STATE", "PRIO"]
    assert "in_reply(supervisor)" in out[2] and "injected" in out[2]
    assert fake_port.closed


def test_cli_tasks_json(fake_port, capsys):
    assert cli.main(["tasks", "--port", "loop://", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows[2] == {"slot": 2, "name": "blinky", "state": "in_send", "peer": 1, "priority": 3,
                       "effective_priority": 3, "generation": 0, "restarts": 0, "last_fault": None}


@pytest.mark.parametrize("argv, want", [
    (["hold", "gpio"], "gpio: held"),
    (["release", "gpio"], "gpio: held, id 0x301 (generation 3)"),
    (["fault", "gpio"], "gpio: injected fault"),
    (["call", "gpio", "0x2", "6869"], "rc 5 (ok) data 4849 (2 bytes)"),
])
def test_cli_commands(fake_port, capsys, argv, want):
    assert cli.main([argv[0], "--port", "loop://", *argv[1:]]) == 0
    assert want in capsys.readouterr().out


def test_cli_unknown_task_is_one_line(fake_port, capsys):
    assert cli.main(["hold", "--port", "loop://", "nosuch"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["keep hold: no task nosuch (tasks: supervisor, gpio, blinky)"]


def test_cli_bad_call_arguments(fake_port, capsys):
    assert cli.main(["call", "--port", "loop://", "gpio", "300"]) == 2
    assert cli.main(["call", "--port", "loop://", "gpio", "1", "zz"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


@pytest.mark.parametrize("port, hint", [
    ("/dev/keep-no-such-port", "does not exist"),
    ("socket://127.0.0.1:1", "nothing is listening"),
    ("bogus://x", "not a port or URL"),
])
def test_cli_bad_ports_are_one_line(capsys, port, hint):
    assert cli.main(["tasks", "--port", port, "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and hint in err[0]


def test_cli_busy_serial_port_is_one_line(capsys):
    import os
    import pty

    import serial

    master, slave = pty.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)
    try:
        assert cli.main(["tasks", "--port", path, "--timeout", "0.3"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "busy" in err[0]
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
