"""The project works from any folder: a checkout named `keep`, under a path
with a space in it (issue 14).

A copy of this checkout - every tracked file plus uncommitted and new ones,
as `git status` sees them - is made at `<tmp>/with space/keep`, and the
parts that once depended on the folder's name run from there with the
copy's own host tools (PYTHONPATH) and temp files under the spaced path:

- the firmware tests that check where a fault happened (fault.where() once
  skipped every frame whose path contained "keep/", i.e. all of them here);
- `keep demo`: a vboard whose flash, launcher and boot code sit under the
  spaced path, a deploy, and a fault whose text must name the app's file,
  not the kernel's.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from keep_host.paths import ROOT


def _copy_checkout(dst):
    """Copy the working tree (tracked + untracked, not ignored) to dst."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=ROOT, capture_output=True,
                                check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing says which files belong to the project")
    for name in listed.decode().split("\0"):
        src = ROOT / name
        if name and src.is_file():  # a file deleted but not yet committed is listed too
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    base = tmp_path_factory.mktemp("paths") / "with space"
    copy = base / "keep"
    _copy_checkout(copy)
    # The .mpy cache is content-addressed and safe to share (deploy.CACHE):
    # the copy's deploys then compile nothing the checkout already did.
    (ROOT / "build" / "mpy-cache").mkdir(parents=True, exist_ok=True)
    (copy / "build").mkdir(exist_ok=True)
    (copy / "build" / "mpy-cache").symlink_to(ROOT / "build" / "mpy-cache")
    (base / "tmp dir").mkdir()
    env = dict(os.environ, PYTHONPATH=str(copy / "host_tools"), TMPDIR=str(base / "tmp dir"))
    env.pop("PYTEST_XDIST_WORKER", None)
    return copy, env


def _run(copy, env, *args, timeout=180):
    res = subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                         text=True, timeout=timeout)
    return res.returncode, res.stdout + res.stderr


def test_the_copy_uses_its_own_host_tools(checkout):
    copy, env = checkout
    rc, out = _run(copy, env, "-c", "from keep_host.paths import ROOT; print(ROOT)")
    assert rc == 0 and out.strip() == str(copy), out


def test_fault_locations_from_a_folder_named_keep(checkout):
    copy, env = checkout
    # (-k, not file paths: pytest would import a named file as CPython tests.)
    # The unix port only: the rule under test reads host paths, which only
    # the unix port's frames carry, and the copy has no node_modules.
    rc, out = _run(copy, env, "-m", "pytest", "-q", "tests/firmware",
                   "--virtual-boards", "unix", "-k", "kernel_faults or iso_regions")
    assert rc == 0, out[-3000:]
    assert "2 passed" in out, out[-3000:]


@pytest.mark.parametrize("romfs", [True, False], ids=["romfs", "files"])
def test_demo_from_a_path_with_a_space(checkout, romfs):
    # chaos' flaky server raises 1.5 s after it starts (board time); the
    # fault text says where. 5 s leaves room for a slow, busy machine.
    copy, env = checkout
    args = ["-m", "keep_host", "demo", "--seconds", "5"] + ([] if romfs else ["--no-romfs"])
    rc, out = _run(copy, env, *args)
    assert rc == 0, out[-3000:]
    at = re.search(r"flaky: exception fault .* at (File .*)", out)
    assert at, out[-3000:]
    want = "/rom/apps/chaos/flaky.mpy" if romfs else "apps/chaos/flaky.py"
    assert f'File "{want}"' in at.group(1), at.group(1)
    assert "messages lost         0" in out


def test_a_colon_in_a_folder_name_is_one_clear_error(tmp_path):
    from keep_host import unixport
    from keep_host.errors import KeepError

    assert unixport.micropypath([".frozen", tmp_path / "a b"]) == f".frozen:{tmp_path}/a b"
    with pytest.raises(KeepError, match="cannot hold a path with ':'"):
        unixport.micropypath([tmp_path / "a:b"])
