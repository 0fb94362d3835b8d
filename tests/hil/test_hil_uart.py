"""UART loopback through the uart server (TX jumpered to RX on the rig; the
virtual board's UART loops back by default)."""

import pytest

WRITE, READ = 1, 2


def _read(dut, want_n, timeout=2.0):
    """What the uart server has read, until want_n bytes or `timeout` board seconds."""
    got = b""
    end = dut.clock.now() + timeout
    while len(got) < want_n and dut.clock.now() < end:
        rc, data = dut.call("uart", READ, (64).to_bytes(2, "little"))
        assert rc >= 0, rc
        got += data
        if not data:
            dut.sleep(0.02)
    return got


def test_loopback_round_trip(dut):
    _read(dut, 1 << 16, timeout=0.1)  # whatever an earlier test left behind
    msg = b"keep-hil-0123456789"
    rc, data = dut.call("uart", WRITE, msg)
    assert rc == 0 and int.from_bytes(data, "little") == len(msg)
    assert _read(dut, len(msg)) == msg


def test_noise_on_the_line_is_visible(dut):
    if not dut.virtual:
        pytest.skip("noise injection needs the virtual board")
    uid = dut.wiring["uart_loop"][0]
    _read(dut, 1 << 16, timeout=0.1)
    dut.sim.uart_noise(uid, 1.0, kind="flip", seed=3)
    try:
        msg = b"A" * 16
        dut.call("uart", WRITE, msg)
        got = _read(dut, len(msg))
    finally:
        dut.sim.uart_noise(uid, 0)
    assert len(got) == len(msg) and got != msg
    assert not dut.events(kind="fault", task="uart"), "noise must not crash the server"
