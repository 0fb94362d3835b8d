"""Firmware test runner: MicroPython test programs judged by their output.

A firmware test is a MicroPython program (MicroPython's own tests/ style).
It passes when it exits cleanly and, if a `<test>.py.exp` file sits beside
it, its output equals that file. A test whose output starts with `SKIP`
is reported as skipped (a feature the target lacks), never as passed.

Where a test runs is a target with run(path) -> Result: the unix port
here (UnixPort), or a board over its console (keep_host.fwboard.SerialBoard,
and EmulatedBoard for an emulated Pico of its own) - the test programs are
the same. A program that cannot run on a board says so itself: its first
output line is `SKIP <why>`.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import unixport
from .paths import FIRMWARE, ROOT

# Tests may ask for another heap with a comment in their first lines:
#   # heapsize: 128K
_HEAP_RE = re.compile(rb"^#\s*heapsize:\s*(\d+[KkMm]?)\s*$", re.M)
FW_LIB = ROOT / "tests" / "firmware" / "lib"


@dataclass
class Result:
    output: str
    returncode: int


@dataclass
class Verdict:
    outcome: str  # "passed" | "failed" | "skipped"
    reason: str = ""


class UnixPort:
    """Runs a test with the unix port's `micropython` at a board-like heap."""

    name = "unix"

    def __init__(self, heap=unixport.TEST_HEAP, timeout=120):
        self.heap = heap
        self.timeout = timeout

    def run(self, path):
        path = Path(path)
        head = path.read_bytes()[:400]
        m = _HEAP_RE.search(head)
        heap = m.group(1).decode() if m else self.heap
        try:
            res = unixport.run([str(path)], heap=heap, path=(FIRMWARE, FW_LIB),
                               cwd=path.parent, timeout=self.timeout, merge_stderr=True)
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"")
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            return Result(out + f"\n<timeout after {self.timeout}s>", -1)
        return Result(res.stdout, res.returncode)


def judge(path, result):
    """Turn a test's output into a verdict."""
    path = Path(path)
    out = result.output.replace("\r\n", "\n")
    if out.startswith("SKIP"):
        return Verdict("skipped", out.strip())
    if result.returncode != 0:
        return Verdict("failed", f"exit code {result.returncode}\n{out}")
    exp = path.with_name(path.name + ".exp")
    if exp.exists():
        want = exp.read_text()
        if out != want:
            return Verdict("failed", _diff(want, out))
    return Verdict("passed")


def _diff(want, got):
    import difflib

    lines = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                 "expected", "got", lineterm="")
    return "output differs from .exp:\n" + "\n".join(lines)
