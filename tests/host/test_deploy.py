"""Deploy without a board: planning, version checks and one-line errors."""

import json

import pytest

from keep_host import cli
from keep_host.deploy import RECORD, build, check_mpy, mpy_cross_version
from keep_host.slots import parents
from vboard_app import APP, firmware_tree


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    return firmware_tree(tmp_path_factory.mktemp("fw"))


def test_plan_has_the_board_modules_the_record_and_main(fw):
    plan = build(APP, firmware=fw)
    names = list(plan.files)
    assert list(plan.root) == ["boot.py", "main.py"]  # source, at the board's root
    assert b"keep.slot" in plan.root["boot.py"] and b"runtime.boot.start()" in plan.root["main.py"]
    assert {"keep/kernel.mpy", "runtime/console.mpy", "app_table.mpy", "demo/tasks.mpy",
            "hal/sim/pins.mpy"} <= set(names)
    assert not any(n.startswith(("hal/esp32", "hal/rp2")) for n in names), "other chips' HALs"
    assert names[-1] == RECORD and all(n.endswith(".mpy") for n in names[:-1])
    assert json.loads(plan.files[RECORD]) == {"app": "console_demo", "board": "unix", "romfs": False,
                                              "files": sorted(names[:-1])}
    assert plan.files["keep/sched.mpy"][:4] == bytes([ord("M"), 6, 2 << 2 | 3, 31])  # x64, v6.3


def test_plan_for_another_board_uses_its_arch_and_hal(fw):
    plan = build(APP, board="esp32_devkitc", firmware=fw)
    assert "hal/esp32.mpy" in plan.files and "hal/sim/pins.mpy" not in plan.files
    assert plan.files["keep/sched.mpy"][2] >> 2 == 10  # xtensawin


def test_build_is_cached(fw, tmp_path, monkeypatch):
    import keep_host.deploy as dep

    first = build(APP, firmware=fw, cache=tmp_path)
    runs = []
    real = dep.subprocess.run
    monkeypatch.setattr(dep.subprocess, "run", lambda *a, **k: runs.append(a) or real(*a, **k))
    again = build(APP, firmware=fw, cache=tmp_path)
    assert runs == [], "an unchanged tree ran the compiler again"
    assert again.files == first.files


class _Plan:
    def __init__(self, arch):
        from keep_host.boards import load_board

        self.board = load_board({"x64": "unix", "armv6m": "rpi_pico", "xtensawin": "esp32_devkitc"}[arch])
        self.mpy_version = mpy_cross_version()


@pytest.mark.parametrize("mpy, arch, want", [
    (6 | 3 << 8 | 2 << 10, "x64", None),
    (6 | 3 << 8 | 0 << 10, "x64", None),  # a port without native code loads any arch-less .mpy
    (6 | 3 << 8 | 10 << 10, "xtensawin", None),
    (6 | 3 << 8 | 4 << 10, "xtensawin", "the board is armv6m but esp32_devkitc compiles for xtensawin"),
    (6 | 2 << 8 | 4 << 10, "armv6m", "the board loads .mpy v6.2 but mpy-cross emits v6.3"),
    (5 | 4 << 10, "armv6m", "the board loads .mpy v5.0"),
    (None, "armv6m", "does not report its .mpy version"),
])
def test_mpy_check(mpy, arch, want):
    got = check_mpy(mpy, _Plan(arch))
    assert (got is None) if want is None else (want in got and "\n" not in got)


def test_parents_come_first():
    assert parents(["hal/sim/pins.mpy", "keep/ipc.mpy", "main.py"]) == ["hal", "keep", "hal/sim"]


@pytest.mark.parametrize("argv, want", [
    (["--app", "no_such_app"], 'unknown app "no_such_app"'),
    (["--app", str(APP), "--board", "nosuch"], "nosuch"),
    (["--app", str(APP), "--firmware", "/nonexistent"], "boot.py is missing"),
])
def test_errors_before_touching_a_board_are_one_line(capsys, argv, want):
    assert cli.main(["deploy", "--port", "socket://127.0.0.1:1", *argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and want in err[0], err


def test_manifest_error_is_one_line(tmp_path, capsys):
    app = tmp_path / "bad"
    app.mkdir()
    (app / "app.toml").write_text('name = "bad"\nboard = "unix"\n[tasks.x]\nentry = "nowhere:main"\npriority = 9\n')
    assert cli.main(["deploy", "--port", "socket://127.0.0.1:1", "--app", str(app)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tasks.x" in err[0]


def test_port_nobody_listens_on_is_one_line(fw, capsys):
    rc = cli.main(["deploy", "--port", "socket://127.0.0.1:1", "--app", str(APP), "--firmware", str(fw)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "cannot open socket://127.0.0.1:1" in err[0]


def test_busy_serial_port_is_one_line(fw, capsys):
    import os
    import pty

    import serial

    master, slave = pty.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)
    try:
        rc = cli.main(["deploy", "--port", path, "--app", str(APP), "--firmware", str(fw)])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 1 and len(err) == 1 and "busy" in err[0]
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_parallel_compiles_of_one_module_share_no_files(tmp_path):
    # Two deploys (or pytest workers) compiling the same module at once used
    # to write the same temporary .py/.tmp and could cache a broken .mpy.
    from concurrent.futures import ThreadPoolExecutor

    from keep_host.deploy import compile_mpy

    src = b"def f(x):\n    return x + 1\n" * 50
    with ThreadPoolExecutor(8) as pool:
        blobs = list(pool.map(lambda _: compile_mpy(src, "m.py", "armv6m", tmp_path), range(16)))
    assert len(set(blobs)) == 1 and blobs[0][:1] == b"M" and len(blobs[0]) > 100
    assert [p.suffix for p in (tmp_path / "armv6m").iterdir()] == [".mpy"]  # no leftovers


@pytest.fixture
def broken_app(tmp_path):
    """console_demo with a syntax error on line 3 of demo/helper.py and a
    `return` outside a function on line 2 of demo/__init__.py."""
    from vboard_app import app_copy

    app = app_copy(tmp_path)
    (app / "demo" / "helper.py").write_text("X = 1\n\ndef broken(:\n    pass\n")
    (app / "demo" / "__init__.py").write_text("# package\nreturn 3\n")
    return app


def test_deploy_names_the_file_and_line_mpy_cross_refused(broken_app, capsys):
    rc = cli.main(["deploy", "--port", "socket://127.0.0.1:1", "--app", str(broken_app)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    # the first error by file, and that there is one more; not the board's path
    assert err[0].startswith("keep deploy: ") and "(and 1 more: keep check lists them)" in err[0]
    assert f"{broken_app / 'demo' / '__init__.py'}:2: SyntaxError: 'return' outside function" in err[0] \
        or f"{broken_app / 'demo' / 'helper.py'}:3: SyntaxError: invalid syntax" in err[0], err


def test_check_compiles_the_app_and_lists_every_error(broken_app, capsys):
    rc = cli.main(["check", str(broken_app)])
    cap = capsys.readouterr()
    assert rc == 1
    assert sorted(cap.out.strip().splitlines()) == [
        f"{broken_app / 'demo' / '__init__.py'}:2: SyntaxError: 'return' outside function",
        f"{broken_app / 'demo' / 'helper.py'}:3: SyntaxError: invalid syntax"]
    assert cap.err.strip() == "keep check: 2 modules do not compile (mpy-cross, x64)"


def test_check_of_a_clean_app_compiles_it_for_the_boards_arch(tmp_path, capsys, monkeypatch):
    import keep_host.deploy as dep

    archs = []
    real = dep.compile_mpy
    monkeypatch.setattr(dep, "compile_mpy", lambda src, name, arch, cache=dep.CACHE:
                        archs.append((name, arch)) or real(src, name, arch, cache))
    assert cli.main(["check", str(APP), "--board", "rpi_pico"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    names = {n for n, _ in archs}
    assert {a for _, a in archs} == {"armv6m"}
    assert {"demo/tasks.py", "keep/kernel.py", "app_table.py", "hal/rp2.py"} <= names, sorted(names)
