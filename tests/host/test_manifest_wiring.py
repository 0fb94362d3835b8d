"""Wiring overlays: an app written for the unix board's rig, compiled for
another board's (its own [test_wiring], or a user's overlay file)."""

import pytest

from keep_host import cli
from keep_host.errors import KeepError
from keep_host.manifest import check_app


def owns_and_args(report):
    return {t.name: (t.owns, t.args) for t in report.app.tasks}


def test_board_wiring_maps_every_part_of_the_rig():
    # chaos (written for unix: LED 2, UART 1, SPI flash bus 1 cs 13) on the
    # Pico: LED 25, UART 1, the flash on SPI0 at GP17 (boards/rpi_pico.toml).
    rep = check_app("chaos", board="rpi_pico", wiring="board")
    assert rep.ok, [str(p) for p in rep.problems]
    got = owns_and_args(rep)
    assert got["gpio"][0]["pins"] == [25] and got["gpio"][1]["rights"] == {"1": (25,)}
    assert got["chaos"][1]["led"] == 25
    assert got["uart"][0]["uart"] == [1]
    assert got["spi"][0]["spi"] == [(0, 17)]
    assert got["spi"][1]["devices"] == {"1": 17}


def test_without_an_overlay_the_manifest_is_read_as_written():
    rep = check_app("chaos", board="rpi_pico")
    got = owns_and_args(rep)
    assert got["gpio"][0]["pins"] == [2]
    assert got["spi"][0]["spi"] == [(1, 13)]


def test_gpio_jumper_ends_follow_the_overlay(tmp_path):
    overlay = tmp_path / "rig.toml"
    overlay.write_text("[test_wiring]\ngpio_loop = [[20, 21]]\nuart_loop = [0]\n"
                       "spi_flash = { bus = 1, cs = 9 }\n[pins]\nled = 22\n")
    rep = check_app("hil", board="rpi_pico", wiring=str(overlay))
    assert rep.ok, [str(p) for p in rep.problems]
    args = {t.name: t.args for t in rep.app.tasks}
    pins = {v for a in args.values() for k, v in a.items() if k in ("out_pin", "in_pin")}
    assert pins and pins <= {20, 21}, args
    assert all(u == [0] for t in rep.app.tasks for u in [t.owns.get("uart")] if u)


def test_overlay_on_its_own_board_changes_nothing():
    plain = check_app("hil", board="unix").table()
    assert check_app("hil", board="unix", wiring="board").table() == plain


@pytest.mark.parametrize("text, want", [
    ("[test_wiring]\ngpio_loop = [[99, 15]]\n", "test_wiring.gpio_loop[0]"),
    ("[test_wiring]\nuart_loop = [7]\n", "uart 7 is not defined"),
    ("[pins]\nled = 99\n", "pin 99 is not a pin of rpi_pico"),
    ("[wiring]\n", 'wiring: unknown key'),
    ("[test_wiring\n", "rig.toml"),
])
def test_a_bad_overlay_is_one_line(tmp_path, text, want):
    overlay = tmp_path / "rig.toml"
    overlay.write_text(text)
    with pytest.raises(KeepError) as err:
        check_app("chaos", board="rpi_pico", wiring=str(overlay))
    msg = str(err.value)
    assert msg.startswith(f"--wiring {overlay}: ") and want in msg and "\n" not in msg


def test_keep_check_takes_the_overlay(tmp_path, capsys):
    out = tmp_path / "app_table.py"
    assert cli.main(["check", "chaos", "--board", "rpi_pico", "--wiring", "board",
                     "--table", str(out)]) == 0
    ns = {}
    exec(out.read_text(), ns)
    plain = {}
    exec(check_app("chaos", board="rpi_pico").table(), plain)
    assert ns["TASKS"] != plain["TASKS"]  # the rewired pins are in the device table
    assert cli.main(["check", "chaos", "--board", "rpi_pico", "--wiring", str(tmp_path / "no")]) != 0
    assert "--wiring" in capsys.readouterr().err
