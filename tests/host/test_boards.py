"""Board files: every one loads, holds the documented facts, and bad ones fail in one line."""

import pytest

from keep_host import cli
from keep_host.boards import board_names, load_all, load_board, parse_board
from keep_host.errors import KeepError
from keep_host.paths import BOARDS


def test_the_three_boards_exist_and_load():
    assert board_names() == ["esp32_devkitc", "rpi_pico", "unix"]
    for b in load_all():
        assert b.led in b.gpio
        assert b.mpy_version == "6.3"


def test_esp32_devkitc_facts():
    b = load_board("esp32_devkitc")
    assert (b.chip, b.hal, b.mpy_arch) == ("esp32", "esp32", "xtensawin")
    assert 100_000 <= b.heap_bytes <= 120_000
    assert not set(range(6, 12)) & set(b.gpio), "GPIO 6-11 are the module's flash pins"
    assert b.uart(0).console and (b.uart(0).tx, b.uart(0).rx) == (1, 3)
    assert (b.spi(2).sck, b.spi(2).mosi, b.spi(2).miso) == (18, 23, 19)  # VSPI
    assert (b.spi(1).sck, b.spi(1).mosi, b.spi(1).miso) == (14, 13, 12)  # HSPI
    assert (b.mpu.pow2, b.mpu.enforced) == (False, "software")
    f = b.flasher
    assert (f.kind, f.chip, f.image_chip_id, f.offset) == ("esptool", "esp32", 0, 0x1000)
    assert {(u.vid, u.pid) for u in b.usb} == {(0x10C4, 0xEA60), (0x1A86, 0x7523)}
    w = b.test_wiring
    assert w.gpio_loop == ((25, 26),) and w.uart_loop == (2,)
    assert w.spi_flash["bus"] == 2 and w.spi_flash["cs"] == 5


def test_rpi_pico_facts():
    b = load_board("rpi_pico")
    assert (b.chip, b.hal, b.mpy_arch, b.led) == ("rp2040", "rp2", "armv6m", 25)
    assert 200_000 <= b.heap_bytes <= 264 * 1024  # within the RP2040's SRAM; the exact
    # figure is checked against the firmware in tests/host/test_pico_vboard.py
    m = b.mpu
    assert (m.regions, m.min_size, m.pow2, m.align) == (8, 256, True, "size")
    assert (b.flasher.kind, b.flasher.family_id, b.flasher.drive_label) == \
        ("uf2", 0xE48BFF56, "RPI-RP2")
    modes = {(u.vid, u.pid): u.mode for u in b.usb}
    assert modes == {(0x2E8A, 0x0005): "serial", (0x2E8A, 0x0003): "bootloader"}
    assert (b.uart(0).tx, b.uart(0).rx, b.uart(1).tx, b.uart(1).rx) == (0, 1, 4, 5)


def test_unix_board_holds_the_demo():
    b = load_board("unix")
    assert (b.hal, b.mpy_arch, b.heap_bytes, b.flasher.kind) == ("sim", "x64", 196608, "none")
    assert b.test_wiring.spi_flash["cs"] == 13  # where hal.sim attaches the NOR flash


def test_unknown_board_lists_known_ones():
    with pytest.raises(KeepError) as e:
        load_board("esp32")
    msg = str(e.value)
    assert "unknown board" in msg and "esp32_devkitc" in msg and "rpi_pico" in msg
    assert "\n" not in msg


def _variant(old, new, name="rpi_pico"):
    text = (BOARDS / f"{name}.toml").read_text()
    assert old in text
    return parse_board(text.replace(old, new, 1), stem=name)[1]


@pytest.mark.parametrize("old,new,want", [
    ('hal = "rp2"', 'hal = "rp3"', 'hal: "rp3" is not one of'),
    ("regions = 8", 'regions = "8"', "mpu.regions: must be an integer, not a string"),
    ("led = 25", "led = 99", "pins.led: pin 99 is not in pins.gpio"),
    ('name = "rpi_pico"', 'name = "pico"', 'name: "pico" must match the file name'),
    ("[mpy]", "colour = 1\n[mpy]", "colour: unknown key"),
    ("sck = 18", "sck = 0", "pin 0 is both uart 0 tx and spi 0 sck"),
    ("family_id = 0xe48bff56", "familyid = 1", 'flasher.familyid: unknown key (did you mean "family_id"?)'),
    ('version = "6.3"', 'version = "6"', 'mpy.version: "6" must look like "6.3"'),
])
def test_bad_board_files_name_the_key(old, new, want):
    problems = [str(p) for p in _variant(old, new)]
    assert any(want in p for p in problems), problems


def test_board_toml_syntax_error_has_line():
    problems = parse_board("name = \n", source="x.toml")[1]
    assert len(problems) == 1 and "line 1" in str(problems[0])


def test_keep_boards_lists_all(capsys):
    assert cli.main(["boards", "-v"]) == 0
    out = capsys.readouterr().out
    for name in ("esp32_devkitc", "rpi_pico", "unix", "0xe48bff56", "10c4:ea60"):
        assert name in out


def test_firmware_tests_rig_matches_the_board_files():
    """tests/firmware/lib/rig.py's copy of each board's [test_wiring] (the
    device never parses TOML) agrees with the board file, keyed by its HAL."""
    import ast

    from keep_host.paths import ROOT

    src = (ROOT / "tests" / "firmware" / "lib" / "rig.py").read_text()
    tree = ast.parse(src)
    wiring = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], "id", None) == "WIRING")
    for b in load_all():
        w = b.test_wiring
        (out_pin, in_pin), = w.gpio_loop
        want = (out_pin, in_pin, w.uart_loop[0], w.spi_flash["bus"], w.spi_flash["cs"],
                w.spi_flash["jedec_id"])
        assert wiring[b.hal] == want, b.name
