"""SPI NOR flash on the rig: write, read back and verify through the spi
server (the hil task runs erase / page program / read via clients.flash.Flash)."""

import pytest

FLASH = 1


def test_write_read_verify(dut):
    m = dut.mark()
    rc, data = dut.call("hil", FLASH, bytes([32]))
    assert rc == 0 and data[0] == 1, data
    jedec = int.from_bytes(data[1:4], "big")
    want = dut.wiring["spi_flash"]["jedec_id"]
    if dut.virtual:
        assert jedec >> 8 == want >> 8  # maker and type; the simulated part is smaller
        back = dut.sim.spi_peek(dut.wiring["spi_flash"]["bus"], dut.wiring["spi_flash"]["cs"],
                                0x100, 32)
        assert back != b"\xff" * 32  # the bytes are really in the part
    else:
        assert jedec == want
    dut.expect(r"hil: flash ok n=32", since=m)


def test_dead_flash_is_an_error_not_a_crash(dut):
    if not dut.virtual:
        pytest.skip("needs the simulator to silence the flash")
    fl = dut.wiring["spi_flash"]
    dut.sim.spi_fail(fl["bus"], fl["cs"], on=True)
    try:
        rc, data = dut.call("hil", FLASH, bytes([8]))
        assert rc == 0 and data[0] == 0
        dut.expect(r"hil: flash error rc=-10")  # E_IO
    finally:
        dut.sim.spi_fail(fl["bus"], fl["cs"], on=False)
    assert dut.call("hil", FLASH, bytes([8]))[1][0] == 1
    assert not dut.events(kind="fault", task="spi")
