"""Where the project's parts live, for tools installed in editable mode."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BOARDS = ROOT / "boards"
APPS = FIRMWARE / "apps"


def venv_bin(name):
    """Path of a tool installed beside this interpreter (the project's venv)."""
    import sys

    return Path(sys.executable).parent / name
