"""A driver crash and restart under load, and a seeded fault campaign."""

import re

import pytest

LOAD = 2


@pytest.fixture
def load(dut):
    dut.call("hil", LOAD, b"\x01")
    dut.expect(r"load: ok=\d+", timeout=3)
    yield
    # Wait until the load task has switched off: its on/off commands are
    # notification bits, so an "off" still pending when the next test's "on"
    # arrives would be seen together with it (and the load would stay off).
    m = dut.mark()
    dut.call("hil", LOAD, b"\x00")
    dut.expect(r"load: off ok=", timeout=3, since=m)


def _ok(match):
    return int(re.search(r"ok=(\d+)", match.group(0)).group(1))


def test_gpio_server_crash_under_load(dut, load):
    before = _ok(dut.expect(r"load: ok=\d+ err=\d+", timeout=3, since=dut.mark()))
    m = dut.mark()
    dut.fault("gpio", "exception")
    fault, restart = dut.expect_restart("gpio", within_ms=200, since=m)
    assert fault["fault"] == "exception"
    after = dut.mark()
    later = _ok(dut.expect(r"load: ok=\d+ err=\d+", timeout=3, since=after))
    assert later > before, "the load kept being served after the restart"
    assert dut.tasks()["gpio"].gen == restart["generation"]
    assert not dut.events(kind="boot"), "the kernel itself never restarted"
    dut.assert_no_frames_lost()


@pytest.mark.keep_faults(seed=11, kinds=["kill", "memory", "stall", "corrupt", "uart_noise",
                                         "spi_dead"], every_ms=100, count=12)
def test_fault_campaign_servers_survive(dut, load, fault_campaign):
    fault_campaign.run()
    summary = fault_campaign.check()
    assert summary["faults"] >= 8
    dut.expect(r"load: ok=\d+", timeout=3, since=dut.mark())  # still serving


def test_campaign_schedule_is_seeded(dut):
    from keep_host.hil.campaign import Campaign

    a = Campaign(dut, seed=5, count=8).schedule()
    assert a == Campaign(dut, seed=5, count=8).schedule()
    assert a != Campaign(dut, seed=6, count=8).schedule()
