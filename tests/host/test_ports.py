"""Which port a command talks to: -p/--port, KEEP_PORT, keep.toml, the one
board attached by USB id (fake list_ports data: no hardware here, but real
ptys the commands open), `keep ports`, one-line errors, and the note that
keeps a second keep command off a port in use."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
from serial.tools.list_ports_common import ListPortInfo

from keep_host import cli, portlock, ports
from keep_host.boardtime import Deadline

PICO = (0x2E8A, 0x0005)     # boards/rpi_pico.toml [[usb]] mode = "serial"
CP2102 = (0x10C4, 0xEA60)   # boards/esp32_devkitc.toml
KEEP = [sys.executable, "-m", "keep_host"]


def keep(capsys, *argv):
    rc = cli.main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def fake_port(device, ids=None, serial_number=None):
    info = ListPortInfo(device, skip_link_detection=True)
    if ids:
        info.vid, info.pid = ids
        info.description = "fake USB serial"
    info.serial_number = serial_number
    return info


@pytest.fixture
def pty_board():
    """A real pty the commands open as a serial port; its 'board' prints
    `say[0]` every 20 ms (opening a port flushes what came before)."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    say = [b"hello from the board\r\n"]
    stop = threading.Event()

    def board():
        while not stop.wait(0.02):
            os.write(master, say[0])

    t = threading.Thread(target=board, daemon=True)
    t.start()
    yield say, path
    stop.set()
    t.join()
    os.close(master)
    os.close(slave)


@pytest.fixture
def attached(monkeypatch):
    """Set the serial ports list_ports reports."""
    found = []
    monkeypatch.setattr(ports, "_comports", lambda: list(found))
    monkeypatch.delenv(ports.ENV, raising=False)
    return found


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """A working folder with no keep.toml above it."""
    d = tmp_path / "work"
    d.mkdir()
    monkeypatch.chdir(d)
    assert ports.find_config() is None or pytest.fail(f"a keep.toml above {d}")
    return d


def test_the_one_attached_board_is_found_by_usb_id(attached, nowhere, pty_board, capsys):
    _, path = pty_board
    attached += [fake_port("/dev/ttyS0"), fake_port(path, PICO, "E66038B7")]
    rc, out, err = keep(capsys, "monitor", "--plain", "--duration", "0.5")
    assert rc == 0, err
    assert "hello from the board" in out


def test_several_boards_are_listed_not_guessed(attached, nowhere, capsys):
    attached += [fake_port("/dev/ttyACM0", PICO), fake_port("/dev/ttyUSB0", CP2102)]
    rc, _, err = keep(capsys, "tasks")
    line = one_line(err)
    assert rc == 1
    assert "several boards" in line
    assert "/dev/ttyACM0 (rpi_pico)" in line and "/dev/ttyUSB0 (esp32_devkitc)" in line


def test_no_board_is_one_line(attached, nowhere, capsys):
    attached += [fake_port("/dev/ttyUSB0", (0x1234, 0x5678))]  # not a board Keep knows
    rc, _, err = keep(capsys, "hold", "ticker")
    line = one_line(err)
    assert rc == 1 and "no board found by USB id" in line and "2e8a:0005" in line


def test_flash_looks_only_for_its_board(attached, nowhere, capsys, tmp_path):
    attached += [fake_port("/dev/ttyACM0", PICO)]  # a Pico is not an ESP32
    from esptool.bin_image import ELFSection, ESP32FirmwareImage

    img = ESP32FirmwareImage()  # a valid image (esptool's own writer): the port is what fails
    img.entrypoint = 0x40080400
    img.segments = [ELFSection(b".iram0.text", 0x40080000, b"\x5a" * 64, 0)]
    fw = tmp_path / "fw.bin"
    fw.write_bytes(img.save(None))
    rc, _, err = keep(capsys, "flash", "--board", "esp32_devkitc", "-f", str(fw))
    line = one_line(err)
    assert rc == 1 and "no esp32_devkitc found by USB id (10c4:ea60" in line, line


def test_a_port_that_does_not_exist(attached, nowhere, capsys):
    attached += [fake_port("/dev/ttyACM0", PICO)]
    for cmd in (["tasks"], ["monitor"], ["deploy", "--app", "blinky"], ["call", "echo", "1"]):
        rc, _, err = keep(capsys, *cmd, "-p", "/dev/ttyKEEP404")
        line = one_line(err)
        assert rc == 1
        assert "/dev/ttyKEEP404 does not exist" in line and "/dev/ttyACM0" in line, line


def test_usb_serial_number(attached, nowhere, pty_board, capsys):
    _, path = pty_board
    attached += [fake_port(path, PICO, "E66038B7")]
    assert ports.resolve("id:E66038B7") == path
    rc, _, err = keep(capsys, "tasks", "-p", "id:NOPE")
    assert rc == 1 and "no serial port with USB serial number NOPE" in one_line(err)


def test_keep_port_and_keep_toml(attached, tmp_path, monkeypatch, pty_board, capsys):
    say, path = pty_board
    project = tmp_path / "proj"
    (project / "apps" / "mine").mkdir(parents=True)
    (project / "keep.toml").write_text(f'port = "{path}"\n')
    monkeypatch.chdir(project / "apps" / "mine")  # found from a subfolder
    assert ports.resolve() == path
    say[0] = b"from keep.toml\r\n"
    rc, out, err = keep(capsys, "monitor", "--plain", "--duration", "0.3")
    assert rc == 0 and "from keep.toml" in out, err
    # KEEP_PORT wins over keep.toml, -p over both.
    monkeypatch.setenv(ports.ENV, "/dev/ttyFROMENV")
    rc, _, err = keep(capsys, "tasks")
    assert "/dev/ttyFROMENV does not exist" in one_line(err)
    rc, out, err = keep(capsys, "monitor", "-p", path, "--plain", "--duration", "0.3")
    assert rc == 0, err
    monkeypatch.delenv(ports.ENV)
    (project / "keep.toml").write_text("port = 7\n")
    rc, _, err = keep(capsys, "tasks")
    assert rc == 1 and "port must be a non-empty string" in one_line(err)


def test_keep_ports_lists_attached_and_virtual(attached, nowhere, vboard, capsys):
    attached += [fake_port("/dev/ttyACM0", PICO, "E66038B7"), fake_port("/dev/ttyUSB5", (1, 2)),
                 fake_port("/dev/ttyS0")]
    url = vboard[0]
    rc, out, _ = keep(capsys, "ports")
    assert rc == 0
    lines = out.splitlines()
    pico = next(ln for ln in lines if ln.startswith("/dev/ttyACM0"))
    assert "rpi_pico" in pico and "2e8a:0005" in pico and "E66038B7" in pico
    assert any(ln.startswith("/dev/ttyUSB5") and " - " in ln for ln in lines)
    assert not any(ln.startswith("/dev/ttyS0") for ln in lines)  # no USB id: only with --all
    vline = next(ln for ln in lines if ln.startswith(url))
    assert "unix" in vline and "virtual" in vline and str(vboard[1].pid) in vline
    rc, out, _ = keep(capsys, "ports", "--all", "-q")
    assert {"/dev/ttyACM0", "/dev/ttyUSB5", "/dev/ttyS0", url} <= set(out.split())
    rc, out, _ = keep(capsys, "ports", "--json")
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert {"port": "/dev/ttyACM0", "board": "rpi_pico"}.items() <= rows[0].items()


# ---- the port in use, on a real virtual board -------------------------------


@pytest.fixture(scope="module")
def vboard(tmp_path_factory):
    """`keep vboard` as a user runs it (it registers itself: keep ports sees it)."""
    flash = tmp_path_factory.mktemp("flash")
    proc = subprocess.Popen([*KEEP, "vboard", "--flash", str(flash)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("socket://"), proc.stderr.read()
    yield url, proc
    proc.send_signal(signal.SIGINT)
    proc.wait()


def _wait_for(what, deadline):
    while not what():
        assert not deadline.expired(), "timed out"
        deadline.clock.sleep(0.05)


def test_a_console_command_does_not_take_the_monitors_port(vboard, capsys):
    url, _ = vboard
    mon = subprocess.Popen([*KEEP, "monitor", "-p", url, "--plain"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: portlock.holder(url) is not None or mon.poll() is not None,
                  Deadline(10))
        assert mon.poll() is None, mon.stderr.read()
        for cmd in (["tasks"], ["hold", "ticker"], ["deploy", "--app", "blinky"]):
            rc, _, err = keep(capsys, *cmd, "-p", url)
            line = one_line(err)
            assert rc == 1
            assert f"in use by pid {mon.pid}" in line and f"keep monitor -p {url}" in line, line
        assert mon.poll() is None  # the monitor kept its connection
        # Another program (not a keep command: no note) takes the socket: the
        # monitor says so, and does not call it the board's death.
        host, port = url[len("socket://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port))):
            _wait_for(lambda: mon.poll() is not None, Deadline(10))
        assert mon.returncode == 1
        line = one_line(mon.stderr.read())
        assert "another program connected" in line and "still running" in line
    finally:
        if mon.poll() is None:
            mon.kill()
            mon.wait()
    assert portlock.holder(url) is None  # its note went with it
    rc, out, err = keep(capsys, "tasks", "-p", url, "--timeout", "0.5")
    assert "in use" not in err  # free again: this one reaches the board (at its REPL)
