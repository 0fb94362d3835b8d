"""keep deploy is all or nothing: cut at every exchange with the board, then
reset, the virtual board boots the old app or the new one, complete.

Two builds of one app (firmware and app modules all marked with a version,
so every file differs) are deployed to a real unix virtual board. For each
N, the deploy of the new build runs through a RawRepl that lets N
exchanges through and then cuts the link (a power cut: no clean-up, then a
hard reset) or presses Ctrl-C (deploy's own recovery). The board is then
reset and asked which app runs: its report task prints the app's version
and the version of every module loaded from the active app's folder. The
host also compares the active folder (or image) on the flash with the
build byte for byte. N runs from 0 to the deploy's last exchange.

Scenarios: every file changed (slot to slot), one app module changed (the
unchanged files copied on the board), plain files to a ROMFS image and
back, and a board deployed before slots existed.
"""

import re
import shutil

import pytest
from vboard_app import firmware_tree, fresh_board

from keep_host import cli
from keep_host.deploy import FIRMWARE_DIRS, DeployInterrupted, build, deploy
from keep_host.repl import RawRepl
from keep_host.slots import POINTER, RECORD, ROM, ROMFS_IMAGE
from keep_host.vboard.pico import DECLARED_SPEED, node_or_none

APP_TOML = """name = "versioned"
board = "unix"

[tasks.report]
entry = "ver.tasks:report"
priority = 1
"""
# Prints which build runs: its VERSION and the DEPLOY_MARK of every module
# imported from the folder boot.py put first in sys.path (the active app).
TASKS = """import sys

VERSION = %r


async def report(k):
    at = sys.path[0]  # '' on a board deployed before slots: the root
    marks = set()
    for m in sys.modules.values():
        f = getattr(m, "__file__", "")
        if f and f.startswith(at + "/" if at else "") and hasattr(m, "DEPLOY_MARK"):
            marks.add(m.DEPLOY_MARK)
    print("deploy-check", VERSION, at or "/", ",".join(sorted(marks)) or "-")
    while True:
        await k.sleep_ms(1000)
"""
CHECK_RE = re.compile(rb"deploy-check (\S+) (\S+) (\S+)")


class Cut(BaseException):
    """The link is cut (deploy has no handler for it: nothing is cleaned up)."""


class CutRepl(RawRepl):
    """A RawRepl that lets `budget` exchanges through, then raises `exc`
    instead of the next one (budget None: never). With ops=k, the next
    exchange, when it is a list of file operations (one call a line:
    upload and copy batches), runs its first k lines before the cut: a
    power cut between two files of one exchange. .codes: what ran."""

    def __init__(self, port, budget=None, exc=Cut, ops=0, before=None, late=False):
        super().__init__(port)
        self.budget, self.exc, self.ops, self.codes = budget, exc, ops, []
        self.before = before  # or: cut before the first exchange whose code has this text
        self.late = late  # or: run the budget-th exchange, then cut before its answer is used

    @property
    def count(self):
        return len(self.codes)

    def exec(self, code, timeout=None):
        if (self.budget is not None and self.count >= self.budget) or \
                (self.before is not None and self.before in code):
            if self.ops:
                super().exec("\n".join(code.splitlines()[:self.ops]), timeout)
            raise self.exc()
        self.codes.append(code)
        out = super().exec(code, timeout)
        if self.late and self.count >= self.budget:
            raise self.exc()
        return out


def _cuts(code):
    """Where an exchange can be cut: before it (0), and when it is a list
    of file operations (one call a line: upload and copy batches), after
    each file it renames into place (`_kd`, the end of a file's write)."""
    lines = code.splitlines()
    if not all(ln.startswith("_k") for ln in lines):
        return [0]
    return [0] + [i + 1 for i, ln in enumerate(lines[:-1]) if ln.startswith("_kd(")]


def _build(tmp, version, app_version=None, romfs=False, board=None):
    """The app and firmware marked `version` (the app's modules
    `app_version`, default the same): its Plan and the report it prints."""
    app_version = app_version or version
    root = tmp / f"{version}-{app_version}"
    if not root.exists():
        fw = firmware_tree(root)
        for d in FIRMWARE_DIRS:
            for src in (fw / d).rglob("*.py"):
                src.write_text(src.read_text() + f"\nDEPLOY_MARK = {version!r}\n")
        app = root / "versioned"
        (app / "ver").mkdir(parents=True)
        (app / "app.toml").write_text(APP_TOML)
        (app / "ver" / "__init__.py").write_text(f"DEPLOY_MARK = {app_version!r}\n")
        (app / "ver" / "tasks.py").write_text(TASKS % app_version + f"\nDEPLOY_MARK = {app_version!r}\n")
    plan = build(root / "versioned", board, firmware=root / "firmware", romfs=romfs)
    return plan, (app_version, ",".join(sorted({version, app_version})))


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("atomic")
    with fresh_board(tmp) as (vb, flash):
        yield vb, flash, tmp


def _restore(flash, snapshot):
    for p in list(flash.iterdir()):
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    shutil.copytree(snapshot, flash, dirs_exist_ok=True)


def _running(vb, flash, builds):
    """Reset the board; which of `builds` ({name: (plan, report)}) it runs,
    checked on the console and on the flash."""
    mark = vb.mark()
    vb.reset()
    vb.wait_output(CHECK_RE, 15, since=mark)
    m = CHECK_RE.search(vb.output_since(mark))
    report = (m.group(1).decode(), m.group(3).decode())
    at = m.group(2).decode()
    hits = [name for name, (_, want) in builds.items() if want == report]
    assert len(hits) == 1, f"the board runs {report} from {at}, neither build: {builds}"
    plan = builds[hits[0]][0]
    assert (flash / POINTER).read_text() == at
    if at == ROM:
        assert (flash / ROMFS_IMAGE).read_bytes() == plan.image
    else:
        slot = flash / at.lstrip("/")
        got = {str(p.relative_to(slot)): p.read_bytes() for p in slot.rglob("*") if p.is_file()}
        assert got == plan.files, f"{at} is not the build it reports"
    return hits[0]


def _cut_and_boot(vb, plan, **cut):
    """Deploy `plan` through a CutRepl(**cut), reset the board: (True if the
    deploy finished, else False or, for Ctrl-C, its line; the (version,
    marks) the board reports; where it runs from)."""
    r = CutRepl(vb.url, **cut)
    try:
        deploy(vb.url, None, plan=plan, boot=False, repl=r)
        done = True
    except Cut:
        done = False
    except DeployInterrupted as err:
        done = str(err)  # Ctrl-C: the line keep deploy prints
    finally:
        r.transport.in_raw_repl = False  # a cut link says nothing more
        r.close()
    mark = vb.mark()
    vb.reset()
    vb.wait_output(CHECK_RE, 30, since=mark)
    m = CHECK_RE.search(vb.output_since(mark))
    return done, (m.group(1).decode(), m.group(3).decode()), m.group(2).decode()


def _sweep(vb, flash, tmp, old, new, exc=Cut, fine=False):
    """Deploy `old`, snapshot, then cut the deploy of `new` after each
    number of exchanges (fine: after each file written as well); returns
    the cut points and what booted after each."""
    (old_plan, _), (new_plan, _) = old, new
    builds = {"old": old, "new": new}
    snap = tmp / "snapshot"
    shutil.rmtree(snap, ignore_errors=True)
    deploy(vb.url, None, plan=old_plan, boot=False)
    assert _running(vb, flash, builds) == "old"
    shutil.copytree(flash, snap)
    counter = CutRepl(vb.url)
    try:
        deploy(vb.url, None, plan=new_plan, boot=False, repl=counter)
    finally:
        counter.close()
    assert _running(vb, flash, builds) == "new"
    points = [(n, k, False) for n, code in enumerate(counter.codes)
              for k in (_cuts(code) if fine else [0])]
    points.append((len(counter.codes), 0, True))  # the last exchange ran, its answer not read
    seen = []
    for n, k, late in points:
        _restore(flash, snap)
        r = CutRepl(vb.url, budget=n, exc=exc, ops=k, late=late)
        try:
            with pytest.raises(DeployInterrupted if exc is KeyboardInterrupt else Cut) as info:
                deploy(vb.url, None, plan=new_plan, boot=False, repl=r)
        finally:
            r.transport.in_raw_repl = False  # a cut link says nothing more
            r.close()
        now = _running(vb, flash, builds)
        if exc is KeyboardInterrupt:  # the line says what the board then boots
            said = str(info.value)
            assert ("switched in" in said) == (now == "new"), (n, said, now)
        seen.append(now)
    # the switch is one step: old until some exchange, new from the next on
    assert seen == sorted(seen, key=lambda s: s == "new"), seen
    return points, seen


@pytest.fixture(scope="module")
def builds(board):
    _, _, tmp = board
    return {"v1": _build(tmp, "v1"), "v2": _build(tmp, "v2"), "v2app": _build(tmp, "v2", "v3"),
            "v2rom": _build(tmp, "v2", romfs=True), "v3rom": _build(tmp, "v3", romfs=True)}


def test_every_file_changed_cut_at_every_file_and_exchange(board, builds):
    vb, flash, tmp = board
    points, seen = _sweep(vb, flash, tmp, builds["v1"], builds["v2"], fine=True)
    exchanges = len({n for n, _, late in points if not late})
    # every module, the record and boot files: more cut points than files
    assert len(points) > len(builds["v2"][0].files) and "old" in seen and "new" in seen
    print(f"\nslot to slot, every file changed: {len(points)} cut points in {exchanges} exchanges")


def test_one_module_changed_cut_at_every_exchange(board, builds):
    vb, flash, tmp = board
    points, seen = _sweep(vb, flash, tmp, builds["v2"], builds["v2app"])
    assert "old" in seen, seen
    print(f"\none app module changed (the rest copied on the board): {len(points)} cut points")


@pytest.mark.parametrize("old, new", [("v1", "v2rom"), ("v2rom", "v3rom"), ("v3rom", "v2")])
def test_to_and_from_romfs_cut_at_every_exchange(board, builds, old, new):
    vb, flash, tmp = board
    points, seen = _sweep(vb, flash, tmp, builds[old], builds[new])
    assert "old" in seen, seen
    print(f"\n{old} -> {new}: {len(points)} cut points")


@pytest.mark.parametrize("old, new", [("v2", "v2app"), ("v2rom", "v3rom")])
def test_ctrl_c_at_every_exchange_says_which_app_boots(board, builds, old, new):
    """With /rom active the switch is the image's rename, over many exchanges."""
    vb, flash, tmp = board
    points, seen = _sweep(vb, flash, tmp, builds[old], builds[new], exc=KeyboardInterrupt)
    assert "old" in seen and "new" in seen
    print(f"\nCtrl-C, {old} -> {new}: {len(points)} cut points")


def test_a_board_deployed_before_slots_cut_at_every_exchange(board, builds):
    """The layout of earlier Keep versions (modules and the record at the
    root, no boot.py) to slots: old until boot.py lands."""
    vb, flash, tmp = board
    old_plan, old_report = builds["v1"]
    for p in list(flash.iterdir()):
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    for name, data in old_plan.files.items():
        (flash / name).parent.mkdir(parents=True, exist_ok=True)
        (flash / name).write_bytes(data)
    (flash / "main.py").write_bytes(old_plan.root["main.py"])
    mark = vb.mark()
    vb.reset()
    m = vb.wait_output(CHECK_RE, 15, since=mark)
    assert b"deploy-check v1" in vb.output_since(mark), m
    snap = tmp / "legacy"
    shutil.rmtree(snap, ignore_errors=True)
    shutil.copytree(flash, snap)
    new_plan, new_report = builds["v2"]
    for exc in (Cut, KeyboardInterrupt):
        seen = []
        for n in range(1000):
            _restore(flash, snap)
            done, report, _ = _cut_and_boot(vb, new_plan, budget=n, exc=exc)
            assert report in (old_report, new_report), report
            seen.append(report[0])
            if isinstance(done, str):  # Ctrl-C: the line says what boots
                assert ("switched in" in done) == (report == new_report), (n, done, report)
            if done is True:
                break
        assert seen[-1] == "v2" and seen == sorted(seen), seen
    print(f"\nfrom a board deployed before slots: {len(seen) - 1} cut points, cut and Ctrl-C")
    assert not (flash / RECORD).exists() and not (flash / "keep").exists()  # the root modules went


def test_ctrl_c_in_keep_deploy_is_one_line_and_the_board_boots_its_app(board, builds, capsys, monkeypatch):
    """Through the CLI: Ctrl-C in the middle of the upload."""
    vb, flash, tmp = board
    old_plan, _ = builds["v1"]
    deploy(vb.url, None, plan=old_plan)
    calls = [0]
    real = RawRepl.exec

    def ctrl_c_on_the_5th(self, code, timeout=None):  # in the middle of the uploads
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt
        return real(self, code, timeout)

    monkeypatch.setattr(RawRepl, "exec", ctrl_c_on_the_5th)
    v2 = tmp / "v2-v2"
    active = (flash / POINTER).read_text()
    mark = vb.mark()
    rc = cli.main(["deploy", "--port", vb.url, "--app", str(v2 / "versioned"),
                   "--firmware", str(v2 / "firmware"), "--plain"])
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert rc == 130 and len(err) == 1 and "Traceback" not in cap.err + cap.out, cap
    assert err[0] == ("keep deploy: interrupted: nothing was switched: the board keeps versioned "
                      f"from {active}; run keep deploy again to finish")
    # out of the raw REPL: the board rebooted the app it keeps
    vb.wait_output("deploy-check v1", 15, since=mark)
    assert (flash / POINTER).read_text() == active


@pytest.mark.skipif(node_or_none() is None, reason="the emulated Pico needs Node.js >= 18, not installed here")
@pytest.mark.timeout(120 / DECLARED_SPEED)  # a deploy and three cut ones, at the emulator's speed
def test_on_the_emulated_pico_a_cut_deploy_boots_the_old_app_or_the_new(tmp_path):
    """A few cuts on the real rp2 firmware (LittleFS) on the emulated Pico,
    one deploy after the other (no snapshot: each resumes what the last
    one left): in the upload, right before the switch, right after it.
    After each, a chip reset and the report."""
    from keep_host.vboard.pico import EmulatedPico

    v1, v2 = _build(tmp_path, "v1", board="rpi_pico"), _build(tmp_path, "v2", board="rpi_pico")
    with EmulatedPico(tmp_path / "flash") as pico:
        deploy(pico.url, None, plan=v1[0], boot=False)
        assert _cut_and_boot(pico, v2[0], budget=6)[1:] == (v1[1], "/keep-a")  # in the upload
        assert _cut_and_boot(pico, v2[0], before="keep.slot.tmp")[1:] == (v1[1], "/keep-a")
        # the switch done, not the clean-up: the new app, whole
        assert _cut_and_boot(pico, v2[0], before="_krm") == (False, v2[1], "/keep-b")
