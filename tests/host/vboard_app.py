"""Helpers for the tests that deploy the console_demo app to a real virtual board."""

import shutil
from contextlib import contextmanager
from pathlib import Path

from keep_host.paths import FIRMWARE, ROOT
from keep_host.vboard import VirtualBoard

DATA = ROOT / "tests" / "host" / "data"
APP = DATA / "apps" / "console_demo"
HEAP = None  # the board file's memory.heap_bytes (boards/unix.toml), as `keep vboard` uses


def firmware_tree(tmp: Path) -> Path:
    """A copy of firmware/ (main.py -> runtime.boot.start(): table, console, trace)
    that a test may change without touching the checkout."""
    fw = tmp / "firmware"
    shutil.copytree(FIRMWARE, fw, ignore=shutil.ignore_patterns("__pycache__", "*.bin"))
    return fw


def app_copy(tmp: Path, name="console_demo") -> Path:
    dst = tmp / "apps" / name
    shutil.copytree(APP, dst)
    if name != "console_demo":
        toml = dst / "app.toml"
        toml.write_text(toml.read_text().replace('name = "console_demo"', f'name = "{name}"'))
    return dst


@contextmanager
def fresh_board(tmp: Path, heap=HEAP):
    """A virtual board on a new, empty flash folder under tmp, at its prompt:
    yields (board, flash folder)."""
    flash = tmp / "flash"
    flash.mkdir()
    with VirtualBoard(flash, heap=heap) as vb:
        vb.wait_output(">>> ", 10)
        yield vb, flash
