"""keep deploy against a real virtual board: the files land, only changes move,
stale files go, the kernel boots; errors are one line.

The board's flash is a host directory, so the tests look at the files
themselves. One board serves the whole module (tests run in order).
"""

import hashlib
import time

import pytest
from vboard_app import HEAP, app_copy, firmware_tree

from keep_host import cli
from keep_host.deploy import RECORD, build, deploy
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
    assert sorted(r.uploaded) == sorted(plan.files) and r.up_to_date == []
    assert events[0] == ("plan", None, len(plan.files))
    assert [e[1] for e in events if e[0] == "upload"] == r.uploaded
    for name, data in plan.files.items():  # byte for byte what was compiled
        assert hashlib.sha256((flash / name).read_bytes()).digest() == hashlib.sha256(data).digest(), name
    assert (flash / "keep" / "kernel.mpy").read_bytes()[:2] == b"M\x06"
    assert (flash / "demo" / "tasks.mpy").exists() and (flash / "app_table.mpy").exists()
    assert not list(flash.rglob("*.tmp"))
    assert r.uploaded[-1] == "main.py", "main.py goes last"
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
    vb, src = env["vb"], env["app"] / "demo" / "tasks.py"
    src.write_text(src.read_text() + "\nCHANGED = 1\n")
    r = deploy(vb.url, env["app"], firmware=env["fw"])
    assert r.uploaded == ["demo/tasks.mpy"]


def test_cli_prints_plain_lines_and_the_count_last(env, capsys):
    vb = env["vb"]
    (env["flash"] / "keep" / "sched.py").write_text("raise ImportError('shadowing .py')\n")
    rc = cli.main(["deploy", "--port", vb.url, "--app", str(env["app"]), "--firmware", str(env["fw"])])
    cap = capsys.readouterr()
    out = cap.out.strip().splitlines()
    assert rc == 0, cap.err
    assert out[-1].startswith(f"deployed console_demo to {vb.url} (unix): 0 uploaded, ")
    assert "removed keep/sched.py" in out, "a .py twin would shadow the .mpy"
    assert not (env["flash"] / "keep" / "sched.py").exists()


def test_another_app_removes_the_first_apps_modules(env):
    vb, flash = env["vb"], env["flash"]
    other = app_copy(env["tmp"], "other_demo")
    (other / "demo").rename(other / "demo2")
    toml = other / "app.toml"
    toml.write_text(toml.read_text().replace("demo.tasks", "demo2.tasks"))
    mark = vb.mark()
    r = deploy(vb.url, other, firmware=env["fw"])
    assert sorted(r.uploaded) == ["app_table.mpy", "demo2/__init__.mpy", "demo2/tasks.mpy"]
    assert sorted(r.removed) == ["demo/__init__.mpy", "demo/tasks.mpy"]
    assert not (flash / "demo" / "tasks.mpy").exists()
    assert '"other_demo"' in (flash / RECORD).read_text()
    vb.wait_output("ticker 25", 10, since=mark)


def test_wrong_arch_for_the_board_is_one_line(env, capsys):
    rc = cli.main(["deploy", "--port", env["vb"].url, "--app", str(env["app"]),
                   "--firmware", str(env["fw"]), "--board", "rpi_pico"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1
    assert "the board is x64 but rpi_pico compiles for armv6m" in err[0]
    time.sleep(0.2)
