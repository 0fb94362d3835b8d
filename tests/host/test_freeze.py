"""keep build: the MicroPython manifest that freezes an app into firmware.

CI cannot build firmware (no network for MicroPython's sources, minutes of
ARM compiling), so these tests check the manifest: it lists exactly the
files keep deploy would put on the board, each path names the module it
must (keep/kernel.py -> keep.kernel), and it is written in MicroPython's
manifest language. MicroPython's own reader (tools/manifestfile.py) ships
in no pinned pip package, so the manifest is run here through a tiny
evaluator of the functions it may call: include(), freeze(), package().
docs/freeze.md says how the real build was run by hand.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from keep_host import cli, paths
from keep_host.deploy import gather
from keep_host.errors import KeepError
from keep_host.freeze import PORT_MANIFEST, write_manifest


def evaluate(path):
    """Run a manifest as MicroPython's manifestfile.py would, recording its calls."""
    calls = {"include": [], "freeze": [], "package": []}

    def include(manifest, **kw):
        calls["include"].append(manifest)

    def freeze(base, script=None, opt=None):
        assert isinstance(base, str) and isinstance(script, str), (base, script)
        calls["freeze"].append((base, script))

    def package(name, files=None, base_path=".", opt=None):
        calls["package"].append((name, base_path))

    exec(compile(Path(path).read_text(), str(path), "exec"),
         {"__builtins__": {}, "include": include, "freeze": freeze, "package": package})
    return calls


def module_name(script):
    return script.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


@pytest.mark.parametrize("board, hal", [("rpi_pico", "hal/rp2.py"), ("esp32_devkitc", "hal/esp32.py")])
def test_manifest_freezes_exactly_the_deploy_plan(tmp_path, board, hal):
    manifest, name = write_manifest("chaos", board, out=tmp_path, wiring="board")
    assert name == board and manifest == tmp_path / "manifest.py"
    calls = evaluate(manifest)
    assert calls["include"] == [PORT_MANIFEST]  # the port's _boot.py, asyncio, ...
    assert calls["package"] == []
    plan = gather("chaos", board, wiring="board")
    frozen = {script: Path(base) / script for base, script in calls["freeze"]}
    assert len(frozen) == len(calls["freeze"])  # no module twice
    want = dict(plan.modules, **{"main.py": plan.root["main.py"],
                                 "app_table.py": tmp_path / "app_table.py"})
    assert set(frozen) == set(want)
    for script, path in frozen.items():
        assert Path(path).resolve() == Path(want[script]).resolve(), script
        assert Path(path).is_absolute() and Path(path).is_file(), path
    assert "boot.py" not in frozen  # it picks a deployed slot: stays on the filesystem
    assert hal in frozen and not {"hal/rp2.py", "hal/esp32.py"} - {hal} <= set(frozen)
    names = {module_name(s) for s in frozen}
    assert {"keep.kernel", "runtime.boot", "servers.gpio", "apps.chaos.main", "app_table",
            "main"} <= names
    # the table frozen is the one deploy compiles: rewired for the board's rig
    assert (tmp_path / "app_table.py").read_text() == plan.table


def test_manifest_paths_with_spaces_and_quotes_survive(tmp_path):
    out = tmp_path / "a dir 'quoted'"
    manifest, _ = write_manifest("blinky", "rpi_pico", out=out)
    bases = {base for base, _ in evaluate(manifest)["freeze"]}
    assert str(out.resolve()) in bases and str(paths.FIRMWARE.resolve()) in bases


def test_the_unix_board_has_no_firmware_to_freeze_into(tmp_path):
    with pytest.raises(KeepError, match="unix is a virtual board with no firmware image"):
        write_manifest("chaos", "unix", out=tmp_path)


def test_keep_build_writes_the_manifest(tmp_path, capsys):
    assert cli.main(["build", "blinky", "--board", "rpi_pico", "--out", str(tmp_path)]) == 0
    assert f"wrote {tmp_path / 'manifest.py'}" in capsys.readouterr().out
    assert evaluate(tmp_path / "manifest.py")["freeze"]


def test_image_for_a_board_keep_cannot_build_is_one_line(tmp_path, capsys):
    code = cli.main(["build", "blinky", "--board", "esp32_devkitc", "--out", str(tmp_path), "--image"])
    err = capsys.readouterr().err
    assert code != 0 and "builds firmware for rpi_pico only" in err
    assert (tmp_path / "manifest.py").is_file()  # the manifest is still there, for an ESP-IDF build


def test_build_firmware_refuses_a_missing_manifest(tmp_path):
    res = subprocess.run([sys.executable, str(paths.ROOT / "emu" / "rp2040" / "build_firmware.py"),
                          "--frozen-manifest", str(tmp_path / "nope.py"), "--build-dir", str(tmp_path)],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "--frozen-manifest" in res.stderr and "no such file" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
