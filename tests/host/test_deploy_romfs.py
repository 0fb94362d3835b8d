"""keep deploy --romfs against a real virtual board: one image holds every
module, the board mounts it at /rom and runs the kernel from it (keep.slot
names /rom), the slot folder of a plain deploy goes, and a plain deploy
takes the image away.

One board serves the whole module (tests run in order).
"""

import re

import pytest
from vboard_app import app_copy, firmware_tree, fresh_board

from keep_host import cli
from keep_host.boards import load_board
from keep_host.deploy import ROMFS_IMAGE, build, deploy
from keep_host.slots import POINTER, RECORD
from keep_host.errors import KeepError
from keep_host.repl import RawRepl


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("romfs")
    with fresh_board(tmp) as (vb, flash):
        yield {"vb": vb, "flash": flash, "fw": firmware_tree(tmp), "app": app_copy(tmp)}


def _board_eval(vb, code):
    with RawRepl(vb.url) as repl:
        repl.enter(soft_reset=True)
        return repl.exec(code).decode().strip()


def test_the_image_holds_every_module_and_nothing_else_is_compiled(env):
    plain = build(env["app"], firmware=env["fw"])
    rom = build(env["app"], firmware=env["fw"], romfs=True)
    assert set(rom.files) == set(plain.files) and rom.root == plain.root
    assert plain.image is None
    img = rom.image
    assert img[:3] == b"\xd2\xcd\x31"  # ROMFS header
    assert len(img) <= load_board("unix").romfs_bytes
    for name in ("kernel.mpy", "app_table.mpy", "tasks.mpy", RECORD):
        assert name.encode() in img, name


def test_a_romfs_deploy_boots_the_kernel_from_rom(env):
    vb, flash = env["vb"], env["flash"]
    deploy(vb.url, env["app"], firmware=env["fw"])  # a plain deploy first: a slot folder
    assert (flash / "keep-a" / "keep" / "kernel.mpy").exists()
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"], romfs=True)
    assert ROMFS_IMAGE in r.uploaded
    assert (flash / POINTER).read_text() == "/rom"
    assert not (flash / "keep-a").exists()  # the plain deploy's slot: removed after the switch
    assert sorted(p.name for p in flash.iterdir() if p.suffix in (".mpy", ".img", ".py", ".slot")) == \
        ["boot.py", POINTER, "main.py", ROMFS_IMAGE]
    vb.wait_output("keep: kernel running, 3 tasks", 10, since=mark)
    vb.wait_output("ticker 25", 10, since=mark)
    where = _board_eval(vb, "import keep.kernel, app_table\n"
                            "print(keep.kernel.__file__, app_table.__file__)")
    assert where == "/rom/keep/kernel.mpy /rom/app_table.mpy"


def test_the_partition_is_outside_the_firmwares_heap(env):
    vb = env["vb"]
    out = _board_eval(vb, "import gc, hal\ngc.collect()\n"
                          "print(gc.mem_alloc() + gc.mem_free(), hal.load().heap_reserved())")
    total, reserved = map(int, out.split())
    board = load_board("unix")
    assert reserved == board.romfs_bytes + board.sim_devices_bytes
    # the process heap is the firmware's heap plus the mapped partition and
    # the simulated peripherals' room (the collector's own tables take
    # ~1.2 % of any heap off gc's total)
    assert board.heap_bytes * 0.97 <= total - reserved <= board.heap_bytes, (total, reserved)


def test_a_second_romfs_deploy_copies_nothing(env):
    r = deploy(env["vb"].url, env["app"], firmware=env["fw"], romfs=True)
    assert r.uploaded == [] and r.removed == [] and sorted(r.up_to_date) == ["boot.py", "main.py", ROMFS_IMAGE]


def test_a_plain_deploy_removes_the_image(env):
    vb, flash = env["vb"], env["flash"]
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"])
    assert not (flash / ROMFS_IMAGE).exists() and (flash / POINTER).read_text() == "/keep-a"
    assert "keep/kernel.mpy" in r.uploaded  # nothing to copy from: the old app was an image
    vb.wait_output("ticker 25", 10, since=mark)
    assert _board_eval(vb, "import keep.kernel\nprint(keep.kernel.__file__)") == "/keep-a/keep/kernel.mpy"


def test_an_image_too_big_for_the_partition_is_not_mounted(env):
    vb, flash = env["vb"], env["flash"]
    (flash / ROMFS_IMAGE).write_bytes(b"\xd2\xcd\x31" + bytes(load_board("unix").romfs_bytes))
    mark = vb.mark()
    vb.reset()
    vb.wait_output("larger than the ROMFS partition", 10, since=mark)
    (flash / ROMFS_IMAGE).unlink()


def test_boards_without_a_partition_refuse_romfs_in_one_line(env, capsys):
    with pytest.raises(KeepError, match=r"rpi_pico has no ROMFS partition .*without --romfs"):
        build("blinky", board="rpi_pico", romfs=True)
    rc = cli.main(["deploy", "--port", env["vb"].url, "--app", "blinky", "--board", "rpi_pico",
                   "--romfs", "--plain"])
    err = capsys.readouterr().err
    assert rc == 1 and re.search(r"no ROMFS partition", err) and "Traceback" not in err
