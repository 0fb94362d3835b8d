"""Helpers for the tests that deploy the console_demo app to a real virtual board."""

import shutil
from pathlib import Path

from keep_host.paths import FIRMWARE, ROOT

DATA = ROOT / "tests" / "host" / "data"
APP = DATA / "apps" / "console_demo"
HEAP = "128K"  # the kernel from .mpy fits 64K boards of 32-bit words; this port's are 64-bit


def firmware_tree(tmp: Path) -> Path:
    """A copy of firmware/ with the test main.py (boots app_table + console)."""
    fw = tmp / "firmware"
    shutil.copytree(FIRMWARE, fw, ignore=shutil.ignore_patterns("__pycache__", "main.py"))
    shutil.copy(DATA / "firmware_main" / "main.py", fw / "main.py")
    return fw


def app_copy(tmp: Path, name="console_demo") -> Path:
    dst = tmp / "apps" / name
    shutil.copytree(APP, dst)
    if name != "console_demo":
        toml = dst / "app.toml"
        toml.write_text(toml.read_text().replace('name = "console_demo"', f'name = "{name}"'))
    return dst
