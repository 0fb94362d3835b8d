"""Collects tests/firmware/*.py as MicroPython test programs, one item per board.

Each file (not conftest.py, not lib/) runs on every virtual board the HIL
suite runs on (ini `keep_virtual_boards`, option --virtual-boards; see
keep_host.hil.plugin): `kernel_ipc[unix]` by the unix port's `micropython`,
never by CPython, and `kernel_ipc[rpi_pico]` on an emulated Pico (one per
pytest process, started and deployed once; keep_host.fwboard). One board
alone keeps the plain id `kernel_ipc`. Without Node.js the Pico's items
skip with one line. The rules (output, .exp, SKIP) are keep_host.fwtest's.
"""

import os

import pytest

from keep_host import fwtest
from keep_host.errors import KeepError
from keep_host.hil.plugin import virtual_boards

NO_NODE = "the emulated Pico needs Node.js >= 18, which is not installed here"


def _is_program(path):
    return path.suffix == ".py" and path.parent.name == "firmware" and path.name != "conftest.py"


def pytest_collect_file(parent, file_path):
    # A path named on the command line is pytest's python plugin's to collect
    # (as a module it would import with CPython): it asks the hook below.
    if _is_program(file_path) and not parent.session.isinitpath(file_path):
        return FirmwareFile.from_parent(parent, path=file_path)
    return None


def pytest_pycollect_makemodule(module_path, parent):
    if _is_program(module_path):
        return FirmwareFile.from_parent(parent, path=module_path)
    return None


def _boards(config):
    # --port/--board point the HIL suite at one board; these programs then
    # run on the unix port alone (a real board: keep_host.fwboard.SerialBoard).
    return virtual_boards(config) or ["unix"]


class FirmwareFile(pytest.File):
    def collect(self):
        boards = _boards(self.config)
        for board in boards:
            name = self.path.stem if boards == ["unix"] else f"{self.path.stem}[{board}]"
            item = FirmwareTest.from_parent(self, name=name)
            item.board = board
            if board != "unix":
                from keep_host.fwboard import TIMEOUT_S
                from keep_host.vboard.pico import DECLARED_SPEED

                # The wall-clock safety net: a test's board-time limit (and
                # the emulator's start and deploy, for the first) at the
                # emulator's declared speed.
                item.add_marker(pytest.mark.timeout((TIMEOUT_S + 60) / DECLARED_SPEED))
            yield item


class FirmwareTest(pytest.Item):
    board = "unix"

    def runtest(self):
        target = fwtest.UnixPort() if self.board == "unix" else _board_target(self.config, self.board)
        verdict = fwtest.judge(self.path, target.run(self.path))
        if verdict.outcome == "skipped":
            pytest.skip(verdict.reason)
        if verdict.outcome == "failed":
            raise FirmwareFailure(verdict.reason)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, FirmwareFailure):
            where = "MicroPython unix port" if self.board == "unix" else f"emulated {self.board}"
            return f"{self.path.name} ({where}):\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"[micropython {self.board}] {self.path.name}"


class FirmwareFailure(Exception):
    pass


_targets = pytest.StashKey[dict]()


def pytest_runtest_teardown(item, nextitem):
    """Stop the emulated boards once the firmware tests are over, so the rest of
    the session (the HIL suite starts its own emulator) does not share the CPU
    with them; a later firmware test (another order) starts one again."""
    if isinstance(item, FirmwareTest) and not isinstance(nextitem, FirmwareTest):
        for target in item.config.stash.get(_targets, {}).values():
            if not isinstance(target, str):
                target.close()
        item.config.stash[_targets] = {}


def _board_target(config, board):
    """This process's emulated board, started and deployed on first use; a
    start or deploy that failed fails every test of that board with its line."""
    targets = config.stash.setdefault(_targets, {})
    if board not in targets:
        targets[board] = _start(config, board)
    got = targets[board]
    if isinstance(got, str):
        if got == NO_NODE:
            pytest.skip(NO_NODE)
        pytest.fail(got, pytrace=False)
    return got


def _start(config, board):
    from keep_host.fwboard import EmulatedBoard, workdir_for
    from keep_host.vboard.pico import node_or_none

    if board == "rpi_pico" and node_or_none() is None:
        return NO_NODE
    tests = sorted(p for p in (config.rootpath / "tests" / "firmware").glob("*.py")
                   if p.name != "conftest.py")
    target = EmulatedBoard(workdir_for(board, os.environ.get("PYTEST_XDIST_WORKER")), board)
    config.add_cleanup(target.close)
    try:
        target.setup(tests)
    except KeepError as err:
        target.close()
        return f"firmware tests on the emulated {board}: {err}"
    return target
