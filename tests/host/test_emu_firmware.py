"""The vendored Pico firmware: its sums, its check's messages, and its pins.

keep_host.emu.firmware verifies emu/rp2040/firmware/ against SHA256SUMS at
`make setup`; a file that changed or went missing must be one KeepError
line naming the file, both sums and the fix. The build script and
PROVENANCE.md both state the MicroPython pin: they must agree.
"""

import hashlib
import importlib.util
import re
import shutil

import pytest

from keep_host.emu import firmware
from keep_host.errors import KeepError
from keep_host.paths import ROOT

SCRIPT = ROOT / "emu" / "rp2040" / "build_firmware.py"
PROVENANCE = firmware.DIR / "PROVENANCE.md"


def _copy(tmp_path):
    for path in firmware.DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _one_line(err):
    text = str(err.value)
    assert "\n" not in text
    return text


def test_vendored_files_verify():
    paths = firmware.verify()
    assert set(paths) == {"RPI_PICO-v1.28.0.uf2", "bootrom-b1.bin"}
    assert firmware.uf2().stat().st_size == 679424
    assert firmware.bootrom().stat().st_size == 16384


def test_altered_uf2_is_one_line_naming_both_sums(tmp_path):
    d = _copy(tmp_path)
    uf2 = d / "RPI_PICO-v1.28.0.uf2"
    data = bytearray(uf2.read_bytes())
    data[1000] ^= 0xFF
    uf2.write_bytes(bytes(data))
    actual = hashlib.sha256(data).hexdigest()
    with pytest.raises(KeepError) as err:
        firmware.verify(d)
    line = _one_line(err)
    assert str(uf2) in line
    assert actual[:12] in line
    assert firmware.expected()["RPI_PICO-v1.28.0.uf2"][:12] in line
    assert "git checkout" in line and "build_firmware.py --update" in line


def test_missing_file_is_one_line(tmp_path):
    d = _copy(tmp_path)
    (d / "bootrom-b1.bin").unlink()
    with pytest.raises(KeepError) as err:
        firmware.bootrom(d)
    line = _one_line(err)
    assert "bootrom-b1.bin is missing" in line
    assert firmware.expected()["bootrom-b1.bin"][:12] in line


def test_bad_sums_file_is_one_line(tmp_path):
    d = _copy(tmp_path)
    (d / "SHA256SUMS").write_text("not a sum\n")
    with pytest.raises(KeepError) as err:
        firmware.verify(d)
    assert "SHA256SUMS line 1" in _one_line(err)
    (d / "SHA256SUMS").unlink()
    with pytest.raises(KeepError) as err:
        firmware.verify(d)
    assert "SHA256SUMS is missing" in _one_line(err)


def test_main_prints_one_line(capsys):
    assert firmware.main() == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "match" in out


def _script():
    spec = importlib.util.spec_from_file_location("build_firmware", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _provenance_sources():
    """{path: (repo, tag, commit)} from PROVENANCE.md's sources table."""
    rows = {}
    for line in PROVENANCE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[0-9a-f]{40}", cells[3]):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def test_script_pins_match_provenance():
    script = _script()
    tag, commit = script.MICROPYTHON
    rows = _provenance_sources()
    assert rows["micropython"] == (script.MICROPYTHON_REPO, tag, commit)
    assert {p: r[0] for p, r in rows.items() if p != "micropython"} == script.SUBMODULES
    # The vendored UF2 is the one the pin builds.
    assert f"{script.BOARD}-{tag}.uf2" in firmware.expected()
    assert f"`MICROPYTHON = {script.MICROPYTHON!r}`".replace("'", '"') in PROVENANCE.read_text()


def test_script_reports_where_files_differ(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"\x00\x01built Apr  6 2026\x00")
    b.write_bytes(b"\x00\x01built Dec  3 2026\x00")
    assert _script().difference(a, b) == "4 bytes: 'built Apr  6 2026' built, 'built Dec  3 2026' vendored"
