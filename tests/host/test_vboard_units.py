"""Virtual board pieces without a MicroPython process: fast and exact."""

import socket

import pytest

from keep_host import cli
from keep_host.errors import KeepError, UsageError
from keep_host.vboard import bootcode, markers
from keep_host.vboard.endpoints import PtyEndpoint, SocketEndpoint, parse_listen
from keep_host.vboard.faults import LinkFaults, parse_spec
from keep_host.vboard.lineio import CookedOutput, ReplInput


# ---- link faults -------------------------------------------------------------

def test_fault_spec_parses_and_rejects_one_line():
    assert parse_spec("drop=0.001,flip=0.002,dup=0.003") == {
        "drop": 0.001, "flip": 0.002, "dup": 0.003}
    assert parse_spec("") == {"drop": 0.0, "flip": 0.0, "dup": 0.0}
    for bad in ("drop", "eat=0.1", "drop=x", "drop=2", "drop=0.6,dup=0.6"):
        with pytest.raises(UsageError) as e:
            parse_spec(bad)
        assert "\n" not in str(e.value)


def test_faults_off_is_identity():
    f = LinkFaults()
    data = bytes(range(256)) * 4
    assert f.apply(data) == data
    assert f.counts["bytes_in"] == f.counts["bytes_out"] == len(data)


def test_faults_are_seeded_counted_and_consistent():
    data = bytes(range(256)) * 200
    a = LinkFaults(drop=0.01, flip=0.01, dup=0.01, seed=7)
    b = LinkFaults(drop=0.01, flip=0.01, dup=0.01, seed=7)
    out_a, out_b = a.apply(data), b.apply(data)
    assert out_a == out_b and a.counts == b.counts          # replayable
    c = a.counts
    assert c["bytes_out"] == len(out_a) == len(data) - c["drop"] + c["dup"]
    for kind in ("drop", "flip", "dup"):                    # ~512 each expected
        assert 350 < c[kind] < 700, c
    other = LinkFaults(drop=0.01, flip=0.01, dup=0.01, seed=8).apply(data)
    assert other != out_a


def test_flip_changes_exactly_one_bit():
    f = LinkFaults(flip=1.0, seed=1)
    out = f.apply(b"\x00" * 64)
    assert len(out) == 64 and all(bin(b).count("1") == 1 for b in out)


# ---- in-band markers ----------------------------------------------------------

def test_marker_scanner_strips_markers_and_keeps_bytes():
    s = markers.MarkerScanner()
    clean, found = s.feed(b"abc" + markers.READY + b"def" + markers.RESET)
    assert clean == b"abcdef" and found == ["ready", "reset"]


def test_marker_split_across_reads_is_found():
    stream = b"boot\x1b[0m" + markers.READY + b"after\x1b"
    s = markers.MarkerScanner()
    out, found = bytearray(), []
    for i in range(len(stream)):
        c, f = s.feed(stream[i:i + 1])
        out += c
        found += f
    out += s.flush()
    assert bytes(out) == b"boot\x1b[0mafter\x1b" and found == ["ready"]


def test_marker_lookalike_binary_passes_through():
    junk = markers.PREFIX + b"x" * 64 + b"tail"
    s = markers.MarkerScanner()
    clean, found = s.feed(junk)
    assert found == [] and clean + s.flush() == junk


# ---- line endings ----------------------------------------------------------------

def test_cooked_output_adds_cr_where_a_board_would():
    c = CookedOutput()
    assert c.feed(b"a\nb\r\n\n") == b"a\r\nb\r\n\r\n"  # REPL's own CR LF stays one
    frame = bytes([0x1E]) + bytes(range(0x80, 0xC0))          # trace frame bytes: no LF
    assert c.feed(frame) == frame


def test_cooked_output_and_repl_input_are_chunk_independent():
    import random

    rnd = random.Random(1)
    for _ in range(300):
        data = bytes(rnd.choice(b"\r\nab\x03") for _ in range(rnd.randrange(1, 30)))
        cut = sorted(rnd.sample(range(len(data) + 1), 2))
        parts = [data[:cut[0]], data[cut[0]:cut[1]], data[cut[1]:]]
        out, inp = CookedOutput(), ReplInput()
        assert b"".join(out.feed(p) for p in parts) == CookedOutput().feed(data)
        assert b"".join(inp.feed(p, True) for p in parts) == ReplInput().feed(data, True)


def test_repl_input_sends_crlf_as_cr_only_to_the_repl():
    r = ReplInput()
    assert r.feed(b"x=1\r\ny=2\n", True) == b"x=1\ry=2\n"  # the port makes that LF a CR
    assert r.feed(b"bin\r\n", False) == b"bin\r\n"           # running code reads it as sent


# ---- boot code ------------------------------------------------------------------

def test_boot_code_compiles_and_skips_main_when_asked():
    full = bootcode.boot_code("/flash", run_main=True)
    safe = bootcode.boot_code("/flash", run_main=False, note="safe")
    compile(full, "boot", "exec")  # the template is valid Python syntax too
    assert "main.py')[:2]" in full and "main.py')[:1]" in safe and "print('safe')" in safe
    ready, reset = repr(markers.READY.decode()), repr(markers.RESET.decode())
    assert ready in full and reset in full
    setup = bootcode.SETUP_FILE.read_text()
    compile(setup, "setup", "exec")
    assert "VfsPosix" in setup and "VfsRom" in setup
    # the mount (in the exec'd setup) happens before READY, READY before main.py
    assert full.index("exec(open(") < full.index(ready) < full.index("execfile(")


# ---- endpoints and CLI errors ---------------------------------------------------

def test_socket_endpoint_keeps_what_a_connected_client_has_not_read():
    ep = SocketEndpoint("127.0.0.1:0")
    try:
        ep.write(b"before")                        # nobody connected: dropped, counted
        assert ep.dropped == 6
        client = socket.create_connection((ep.host, ep.port))
        ep.on_readable(ep.server)                  # accept
        big = bytes(range(256)) * 32768            # 8 MB: more than the kernel buffers
        ep.write(big)
        assert ep.backlog() > 0 and ep.dropped == 6  # waits, nothing dropped
        client.setblocking(False)
        got = bytearray()
        while len(got) < len(big):
            try:
                got += client.recv(1 << 20)
            except BlockingIOError:
                ep.flush()
        assert bytes(got) == big and ep.backlog() == 0
        client.close()
    finally:
        ep.close()


def test_pty_endpoint_sees_its_client_and_drops_only_without_one():
    import os

    ep = PtyEndpoint()
    try:
        ep.refresh()
        assert not ep.connected and ep.read_fds() == []
        ep.write(b"nobody")                        # no client: dropped, counted
        assert ep.dropped == 6
        fd = os.open(ep.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        ep.refresh()
        assert ep.connected and ep.connects == 1
        ep.write(b"z" * 100_000)                   # the pty holds a few KB: the rest waits
        assert ep.backlog() > 0 and ep.dropped == 6
        os.write(fd, b"typed")
        assert ep.on_readable(ep.master) == b"typed"
        waiting = ep.backlog()
        os.close(fd)                               # the client goes: what it left unread
        while ep.connected:                        # is dropped and counted (what waited
            ep.on_readable(ep.master)              # here, what the pty says it holds)
        assert 6 + waiting + 4000 < ep.dropped <= 6 + 100_000 and ep.backlog() == 0
        fd = os.open(ep.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        ep.refresh()
        with pytest.raises(BlockingIOError):       # no stale output for the next client
            os.read(fd, 100)
        os.close(fd)
    finally:
        ep.close()


def test_parse_listen():
    assert parse_listen("127.0.0.1:4000") == ("127.0.0.1", 4000)
    assert parse_listen(":0") == ("127.0.0.1", 0)
    assert parse_listen("5000") == ("127.0.0.1", 5000)
    with pytest.raises(KeepError):
        parse_listen("host:notaport")


def test_port_in_use_is_one_line_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(KeepError, match="already in use"):
            SocketEndpoint(f"127.0.0.1:{port}")


def test_cli_port_in_use_exit_code_and_no_traceback(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc = cli.main(["vboard", "--listen", f"127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1 and "already in use" in err and "Traceback" not in err


def test_cli_bad_fault_spec(capsys):
    assert cli.main(["vboard", "--link-faults", "drop=lots"]) == 2
    assert "'lots' for drop" in capsys.readouterr().err


def test_cli_flash_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli.main(["vboard", "--flash", str(f)]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_heap_sizes_parse_or_refuse_in_one_line(capsys):
    from keep_host.vboard.board import heap_bytes, heapsize

    assert heap_bytes("192K") == heap_bytes("192k") == heap_bytes(196608) == 196608
    assert heap_bytes("1M") == 1 << 20
    assert heapsize(196608 + 131072) == "320K" and heapsize(1000) == "1000"
    for bad in ("abc", "12Q", "0K", "", "-5K"):
        with pytest.raises(KeepError, match="give bytes or a number with K or M"):
            heap_bytes(bad)
    assert cli.main(["vboard", "--heap", "abc"]) == 1
    err = capsys.readouterr().err
    assert "give bytes or a number with K or M" in err and "Traceback" not in err
