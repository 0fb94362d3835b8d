"""The emulated Pico as a board: the official rp2 firmware on rp2040js behind
`keep vboard --board rpi_pico`, driven by stock mpremote and by the control
channel. Skipped, with one line, where Node.js is not installed."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from keep_host.errors import KeepError
from keep_host.paths import venv_bin
from keep_host.simctl import SimControl
from keep_host.vboard import registry
from keep_host.vboard.pico import EmulatedPico, node_or_none

pytestmark = pytest.mark.skipif(node_or_none() is None,
                                reason="the emulated Pico needs Node.js >= 18, not installed here")

MPREMOTE = str(venv_bin("mpremote"))


def mpremote(url, *args, timeout=120):
    r = subprocess.run([MPREMOTE, "connect", url, *args], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def pico(tmp_path_factory):
    flash = tmp_path_factory.mktemp("pico flash")  # a space in the path, on purpose
    with EmulatedPico(flash) as p:
        yield p


def test_stock_mpremote_sees_the_rp2040(pico):
    out = mpremote(pico.url, "exec", "import sys; print(sys.implementation._machine)")
    assert out.strip() == "Raspberry Pi Pico with RP2040"


def test_the_board_files_heap_is_the_firmwares(pico):
    from keep_host.boards import load_board

    out = mpremote(pico.url, "exec", "import gc; gc.collect(); print(gc.mem_alloc() + gc.mem_free())")
    assert int(out) == load_board("rpi_pico").heap_bytes


def test_files_survive_a_soft_reset_and_a_chip_reset(pico, tmp_path):
    blob = os.urandom(20000)
    (tmp_path / "blob.bin").write_bytes(blob)
    mpremote(pico.url, "fs", "cp", str(tmp_path / "blob.bin"), ":blob.bin", "+", "soft-reset")
    pico.reset()  # the RUN pin: a new chip, the same flash
    mpremote(pico.url, "fs", "cp", ":blob.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == blob


def test_ctrl_c_stops_running_code(pico):
    import serial

    s = serial.serial_for_url(pico.url, timeout=0.1)
    try:
        m = pico.mark()
        s.write(b"\r\x03\x03while True: pass\r\r\r")
        pico.wait_output("... ", 10, since=m)
        s.write(b"\x03")
        pico.wait_output("KeyboardInterrupt", 10, since=m)
        pico.wait_output(">>> ", 10, since=m)
    finally:
        s.close()


def test_watchdog_and_machine_reset_keep_the_flash(pico):
    mpremote(pico.url, "exec", "with open('keep.txt', 'w') as f: f.write('still here')")
    with SimControl("127.0.0.1", pico.sim_ctl_port) as ctl:
        boots = ctl.call("clock")["boots"]
        serial_exec(pico, "import machine; machine.WDT(timeout=100)")
        assert ctl.wait_reboot()["reset_cause"] == "wdt"
        assert ctl.call("clock")["boots"] == boots + 1
        pico.wait_usb()
        out = mpremote(pico.url, "exec",
                       "import machine; print(machine.reset_cause() == machine.WDT_RESET, "
                       "open('keep.txt').read())")
        assert out.split() == ["True", "still", "here"], out
        serial_exec(pico, "import machine; machine.reset()")
        assert ctl.wait_reboot()["reset_cause"] == "wdt"  # rp2 resets through the watchdog
    pico.wait_usb()
    assert "still here" in mpremote(pico.url, "exec", "print(open('keep.txt').read())")


def serial_exec(pico, line):
    """Type one line at the friendly REPL (mpremote would wait for an answer
    a resetting board never gives)."""
    import serial

    s = serial.serial_for_url(pico.url, timeout=0.1)
    try:
        s.write(b"\r\x03" + line.encode() + b"\r")
        s.flush()
    finally:
        s.close()


RIG = """
import machine, time
o = machine.Pin(14, machine.Pin.OUT, value=0)
i = machine.Pin(15, machine.Pin.IN)
a = i.value(); o.value(1); b = i.value()
u = machine.UART(1, baudrate=115200, tx=machine.Pin(4), rx=machine.Pin(5), timeout=100)
u.write(b"loop-back, more than the 32-byte FIFO holds at once")
time.sleep_ms(20)
echo = u.read()
cs = machine.Pin(17, machine.Pin.OUT, value=1)
spi = machine.SPI(0, baudrate=1_000_000, sck=machine.Pin(18), mosi=machine.Pin(19),
                  miso=machine.Pin(16))
def cmd(w, n=0):
    cs(0); spi.write(w); r = spi.read(n) if n else b""; cs(1); return r
jedec = cmd(b"\\x9f", 3).hex()
cmd(b"\\x06"); cmd(b"\\x20\\x00\\x10\\x00")
while cmd(b"\\x05", 1)[0] & 1: pass
cmd(b"\\x06"); cmd(b"\\x02\\x00\\x10\\x00" + bytes(range(64)))   # 68 bytes: a DMA transfer
while cmd(b"\\x05", 1)[0] & 1: pass
back = cmd(b"\\x03\\x00\\x10\\x00", 64) == bytes(range(64))
print(a, b, echo, jedec, back)
"""


def test_the_rigs_wiring_is_emulated(pico, tmp_path):
    (tmp_path / "rig.py").write_text(RIG)
    out = mpremote(pico.url, "run", str(tmp_path / "rig.py")).strip()
    assert out == "0 1 b'loop-back, more than the 32-byte FIFO holds at once' ef4016 True", out
    with SimControl("127.0.0.1", pico.sim_ctl_port) as ctl:
        assert ctl.spi_peek(0, 17, 0x1000, 4) == bytes(range(4))  # behind the bus, in the NOR


FAULTS = """
import machine, time
i = machine.Pin(15, machine.Pin.IN)
u = machine.UART(1, baudrate=115200, tx=machine.Pin(4), rx=machine.Pin(5), timeout=100)
u.write(b"A" * 16); time.sleep_ms(10)
cs = machine.Pin(17, machine.Pin.OUT, value=1)
spi = machine.SPI(0, baudrate=1_000_000, sck=machine.Pin(18), mosi=machine.Pin(19),
                  miso=machine.Pin(16))
cs(0); spi.write(b"\\x9f"); j = spi.read(3); cs(1)
print(i.value(), u.read() != b"A" * 16, j.hex())
"""


def test_faults_from_the_control_channel(pico, tmp_path):
    (tmp_path / "faults.py").write_text(FAULTS)
    with SimControl("127.0.0.1", pico.sim_ctl_port) as ctl:
        ctl.stuck_pin(15, 1)
        ctl.uart_noise(1, 1.0, kind="flip", seed=7)
        ctl.spi_fail(0, 17, on=True)
        try:
            out = mpremote(pico.url, "run", str(tmp_path / "faults.py")).strip()
        finally:
            ctl.stuck_pin(15, None)
            ctl.uart_noise(1, 0)
            ctl.spi_fail(0, 17, on=False)
    assert out == "1 True ffffff", out


def test_board_time_is_the_emulated_clock(pico):
    out = mpremote(pico.url, "exec", "import time; t = time.ticks_ms(); time.sleep_ms(300); "
                                     "print(time.ticks_diff(time.ticks_ms(), t))")
    assert 300 <= int(out) < 320
    a = pico.clock.now()
    pico.clock.sleep(0.2)
    assert pico.clock.now() - a >= 0.2


def test_keep_vboard_rpi_pico_prints_its_url_first(tmp_path):
    p = subprocess.Popen([str(venv_bin("keep")), "vboard", "--board", "rpi_pico",
                          "--flash", str(tmp_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        info = json.loads(p.stdout.readline())
        assert url.startswith("socket://127.0.0.1:") and info["board"] == "rpi_pico"
        assert registry.lookup(url)["clock"] == "emulated"
        out = mpremote(url, "exec", "import sys; print(sys.platform)")
        assert out.strip() == "rp2"
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(30)
    assert p.returncode == 0, p.stderr.read()
    assert registry.lookup(url) is None


def test_no_node_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing here, node included
    with pytest.raises(KeepError, match=r"^the emulated Pico needs Node\.js 18 or newer"):
        EmulatedPico(tmp_path).start()
    r = subprocess.run([sys.executable, "-m", "keep_host", "vboard", "--board", "rpi_pico"],
                       capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "Node.js" in r.stderr, r.stderr


def test_an_altered_uf2_is_refused_before_starting(tmp_path, monkeypatch):
    from keep_host.emu import firmware

    bad = tmp_path / "fw"
    shutil.copytree(firmware.DIR, bad)
    uf2 = next(bad.glob("*.uf2"))
    data = bytearray(uf2.read_bytes())
    data[1000] ^= 0xFF
    uf2.write_bytes(data)
    monkeypatch.setattr(firmware, "DIR", bad)
    with pytest.raises(KeepError, match=r"\.uf2 has sha256 [0-9a-f]+…, expected"):
        EmulatedPico(tmp_path / "flash").start()


def test_a_busy_port_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(KeepError, match=r"^the Pico emulator did not start: .*EADDRINUSE"):
            EmulatedPico(tmp_path, listen=f"127.0.0.1:{port}").start()


def test_an_emulator_that_dies_is_named(tmp_path):
    p = EmulatedPico(tmp_path).start()
    try:
        os.kill(p._proc.pid, signal.SIGKILL)
        with pytest.raises(KeepError, match=r"the emulated Pico at socket://\S+ stopped: "
                                            r"its emulator process is gone \(killed by signal 9\)"):
            p.wait_output("never printed", 30)
    finally:
        p.stop()
