"""Collects tests/firmware/*.py as MicroPython tests run by the unix port.

Each file (not conftest.py, not lib/) becomes one pytest item executed by
`micropython`, never by CPython; see keep_host.fwtest for the rules.
"""

import pytest

from keep_host import fwtest


def pytest_collect_file(parent, file_path):
    if (file_path.suffix == ".py" and file_path.parent.name == "firmware"
            and file_path.name != "conftest.py"):
        return FirmwareFile.from_parent(parent, path=file_path)
    return None


class FirmwareFile(pytest.File):
    def collect(self):
        yield FirmwareTest.from_parent(self, name=self.path.stem)


class FirmwareTest(pytest.Item):
    def runtest(self):
        target = fwtest.UnixPort()
        verdict = fwtest.judge(self.path, target.run(self.path))
        if verdict.outcome == "skipped":
            pytest.skip(verdict.reason)
        if verdict.outcome == "failed":
            raise FirmwareFailure(verdict.reason)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, FirmwareFailure):
            return f"{self.path.name} (MicroPython unix port):\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"[micropython] {self.path.name}"


class FirmwareFailure(Exception):
    pass
