"""keep deploy against a real virtual board: the app lands whole in a slot
folder, keep.slot switches to it, only changes cross the link, the old app
goes, the kernel boots; errors are one line.

The board's flash is a host directory, so the tests look at the files
themselves. One board serves the whole module (tests run in order).
"""

import hashlib
import time

import pytest
from vboard_app import HEAP, app_copy, firmware_tree

from keep_host import cli
from keep_host.deploy import RECORD, build, deploy
from keep_host.slots import POINTER
from keep_host.vboard import VirtualBoard


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    flash = tmp / "flash"
    flash.mkdir()
    (flash / "main.py").write_text("print('old main')\n")
    with VirtualBoard(flash, heap=HEAP) as vb:
        vb.wait_output(">>> ", 10)
        yield {"vb": vb, "flash": flash, "fw": firmware_tree(tmp), "app": app_copy(tmp), "tmp": tmp}


def test_first_deploy_uploads_every_file_verified_and_boots(env):
    vb, flash = env["vb"], env["flash"]
    plan = build(env["app"], firmware=env["fw"])
    events = []
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"], progress=lambda *a: events.append(a))
    assert sorted(r.uploaded) == sorted([*plan.files, "boot.py", "main.py"]) and r.up_to_date == []
    assert events[0] == ("plan", None, len(plan.files) + 2)
    assert [e[1] for e in events if e[0] == "upload"] == r.uploaded
    assert ("switch", "/keep-a", 0) in events
    assert (flash / POINTER).read_text() == "/keep-a"
    slot = flash / "keep-a"
    for name, data in plan.files.items():  # byte for byte what was compiled
        assert hashlib.sha256((slot / name).read_bytes()).digest() == hashlib.sha256(data).digest(), name
    assert sorted(str(p.relative_to(slot)) for p in slot.rglob("*") if p.is_file()) == sorted(plan.files)
    for name, data in plan.root.items():  # the board's boot files, outside the slots
        assert (flash / name).read_bytes() == data, name
    assert (slot / "keep" / "kernel.mpy").read_bytes()[:2] == b"M\x06"
    assert not list(flash.rglob("*.tmp"))
    assert r.uploaded[-2:] == ["boot.py", "main.py"], "the boot files after the switch"
    vb.wait_output("keep: kernel running, 3 tasks", 10, since=mark)
    vb.wait_output("ticker 25", 10, since=mark)


def test_second_deploy_copies_nothing(env):
    vb = env["vb"]
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"])
    assert r.uploaded == [] and r.removed == [] and len(r.up_to_date) > 20
    # (how long it takes is bench/deploy.py's deploy_noop_s, not a test's business)
    vb.wait_output("kernel running", 10, since=mark)


def test_a_changed_module_is_the_only_upload(env):
    vb, src, flash = env["vb"], env["app"] / "demo" / "tasks.py", env["flash"]
    src.write_text(src.read_text() + "\nCHANGED = 1\n")
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"])
    assert r.uploaded == ["demo/tasks.mpy"]  # the rest was copied on the board
    # the whole app is in the other slot, the first one is gone
    assert (flash / POINTER).read_text() == "/keep-b" and not (flash / "keep-a").exists()
    assert b"CHANGED" in (flash / "keep-b" / "demo" / "tasks.mpy").read_bytes()
    assert (flash / "keep-b" / "keep" / "kernel.mpy").exists()
    vb.wait_output("ticker 25", 10, since=mark)


def test_cli_prints_plain_lines_and_the_count_last(env, capsys):
    vb, flash = env["vb"], env["flash"]
    # a stray file in the active slot: the app there is no longer exactly the
    # plan, so the deploy stages the other slot again (on the board) and switches
    (flash / "keep-b" / "keep" / "sched.py").write_text("raise ImportError('shadowing .py')\n")
    rc = cli.main(["deploy", "--port", vb.url, "--app", str(env["app"]), "--firmware", str(env["fw"])])
    cap = capsys.readouterr()
    out = cap.out.strip().splitlines()
    assert rc == 0, cap.err
    assert out[-1].startswith(f"deployed console_demo to {vb.url} (unix): 0 uploaded, ")
    assert "switched to /keep-a" in out
    assert (flash / POINTER).read_text() == "/keep-a" and not (flash / "keep-b").exists()


def test_another_app_removes_the_first_apps_modules(env):
    vb, flash = env["vb"], env["flash"]
    other = app_copy(env["tmp"], "other_demo")
    (other / "demo").rename(other / "demo2")
    toml = other / "app.toml"
    toml.write_text(toml.read_text().replace("demo.tasks", "demo2.tasks"))
    mark = vb.mark()
    r = deploy(vb.url, other, firmware=env["fw"])
    assert sorted(r.uploaded) == [RECORD, "app_table.mpy", "demo2/__init__.mpy", "demo2/tasks.mpy"]
    assert sorted(r.removed) == ["demo/__init__.mpy", "demo/tasks.mpy"]
    assert not (flash / "keep-a").exists() and not (flash / "keep-b" / "demo").exists()
    assert '"other_demo"' in (flash / "keep-b" / RECORD).read_text()
    vb.wait_output("ticker 25", 10, since=mark)


def test_a_board_deployed_before_slots_switches_and_loses_its_root_modules(env):
    # the layout of earlier Keep versions: modules at the root, a root record,
    # a main.py that imports keep.boot from the root
    vb, flash = env["vb"], env["flash"]
    import shutil

    for p in [*flash.iterdir()]:
        if p.name not in ("sim_nor0.bin",):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    plan = build(env["app"], firmware=env["fw"])
    for name, data in plan.files.items():
        if name != RECORD:
            (flash / name).parent.mkdir(parents=True, exist_ok=True)
            (flash / name).write_bytes(data)
    (flash / "keep" / "sched.py").write_text("# a .py twin\n")
    (flash / RECORD).write_text('{"app": "console_demo", "files": %s}'
                                % str(sorted([*plan.files, "main.py"])).replace("'", '"'))
    (flash / "main.py").write_bytes(plan.root["main.py"])
    (flash / "boot.py").write_text("print('the user boot.py')\n")
    mark = vb.mark()
    r = deploy(vb.url, env["app"], firmware=env["fw"])
    # boot.py is the switch there; main.py is the same; the root modules go
    assert r.uploaded[-1] == "boot.py" and (flash / POINTER).read_text() == "/keep-a"
    assert sorted(p.name for p in flash.iterdir()) == \
        ["boot.py", "boot.py.orig", "keep-a", POINTER, "main.py", "sim_nor0.bin"]
    vb.wait_output("ticker 25", 10, since=mark)


def test_wrong_arch_for_the_board_is_one_line(env, capsys):
    rc = cli.main(["deploy", "--port", env["vb"].url, "--app", str(env["app"]),
                   "--firmware", str(env["fw"]), "--board", "rpi_pico"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1
    assert "the board is x64 but rpi_pico compiles for armv6m" in err[0]
    time.sleep(0.2)
