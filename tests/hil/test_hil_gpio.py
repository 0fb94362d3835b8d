"""GPIO output, input and edge interrupts through the gpio server, on the
board's test wiring (a jumper from an output pin to an input pin; the
virtual board wires the same pins itself)."""

import pytest

READ, WRITE = 1, 2


@pytest.mark.parametrize("level", [1, 0, 1])
def test_output_drives_the_pin(dut, gpio_loop, level):
    out_pin, _ = gpio_loop
    rc, _ = dut.call("gpio", WRITE, bytes([out_pin, level]))
    assert rc == 0
    if dut.virtual:  # the simulator sees the pin itself
        assert dut.sim.read_pin(out_pin) == level
    rc, data = dut.call("gpio", READ, bytes([out_pin]))
    assert rc == 0 and data == bytes([level])


def test_input_reads_the_wired_level(dut, gpio_loop):
    out_pin, in_pin = gpio_loop
    for level in (1, 0):
        assert dut.call("gpio", WRITE, bytes([out_pin, level]))[0] == 0
        rc, data = dut.call("gpio", READ, bytes([in_pin]))
        assert rc == 0 and data == bytes([level]), f"in {in_pin} after out {out_pin}={level}"


def test_edges_reach_the_subscriber(dut, gpio_loop):
    out_pin, in_pin = gpio_loop
    dut.call("gpio", WRITE, bytes([out_pin, 0]))
    m = dut.mark()
    dut.call("gpio", WRITE, bytes([out_pin, 1]))
    dut.expect(rf"edge: pin={in_pin} level=1 n=\d+", timeout=3, since=m)
    m = dut.mark()
    dut.call("gpio", WRITE, bytes([out_pin, 0]))
    dut.expect(rf"edge: pin={in_pin} level=0 n=\d+", timeout=3, since=m)
    # the edge reached the task as a notification: the trace shows the wake-up
    dut.wait_event(kind="notify", task="gpio", where=lambda e: e["peer"] == dut.slot("edges"),
                   since=m, timeout=3)


def test_stuck_input_is_seen(dut, gpio_loop):
    if not dut.virtual:
        pytest.skip("needs the simulator to hold a pin")
    out_pin, in_pin = gpio_loop
    dut.sim.stuck_pin(in_pin, 1)
    try:
        dut.call("gpio", WRITE, bytes([out_pin, 0]))
        assert dut.call("gpio", READ, bytes([in_pin]))[1] == b"\x01"
    finally:
        dut.sim.stuck_pin(in_pin, None)
    assert dut.call("gpio", READ, bytes([in_pin]))[1] == b"\x00"
