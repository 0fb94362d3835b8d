"""The firmware Keep's emulated Pico runs, vendored and checked against its sums.

emu/rp2040/firmware/ holds MicroPython's RPI_PICO UF2, the RP2040 boot ROM
and SHA256SUMS (sha256sum format); PROVENANCE.md there says where they come
from and emu/rp2040/build_firmware.py rebuilds the UF2 from pinned sources.

    paths = verify()          # {"bootrom-b1.bin": Path, "RPI_PICO-v1.28.0.uf2": Path}
    uf2(), bootrom()          # the two files, verified

Invariants: SHA256SUMS is the one list of vendored files (a later MicroPython
changes the UF2's name there and nowhere here); a path this module returns
has just matched its sum; any mismatch, missing file or bad SHA256SUMS is one
KeepError line naming the file and what to do. Run at setup:
`python -m keep_host.emu.firmware`.
"""

import hashlib
import sys
from pathlib import Path

from ..errors import KeepError
from ..paths import ROOT

DIR = ROOT / "emu" / "rp2040" / "firmware"
SUMS_NAME = "SHA256SUMS"
BOOTROM_NAME = "bootrom-b1.bin"
BUILD_SCRIPT = "emu/rp2040/build_firmware.py"


def _shown(path):
    """The path as a user in the repo would type it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def expected(directory=None):
    """{file name: sha256 hex} from the directory's SHA256SUMS."""
    sums = Path(directory or DIR) / SUMS_NAME
    try:
        text = sums.read_text()
    except OSError:
        raise KeepError(f"{_shown(sums)} is missing: restore it with `git checkout -- {_shown(sums)}`")
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or set(digest) - set("0123456789abcdef"):
            raise KeepError(f"{_shown(sums)} line {number} is not `<sha256>  <file>`: {line.strip()!r}")
        out[parts[1].strip().lstrip("*")] = digest
    if not out:
        raise KeepError(f"{_shown(sums)} lists no files")
    return out


def verify(directory=None):
    """Check every file SHA256SUMS lists; return {name: Path} or raise KeepError."""
    directory = Path(directory or DIR)
    fix = (f"restore it with `git checkout -- {_shown(directory)}`, or rebuild with "
           f"{BUILD_SCRIPT} --update and commit the new sums")
    paths = {}
    for name, digest in expected(directory).items():
        path = directory / name
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            raise KeepError(f"{_shown(path)} is missing (sha256 {digest[:12]}… expected): {fix}")
        if actual != digest:
            raise KeepError(f"{_shown(path)} has sha256 {actual[:12]}…, expected {digest[:12]}…: {fix}")
        paths[name] = path
    return paths


def uf2(directory=None):
    """The vendored MicroPython UF2 (the one .uf2 SHA256SUMS lists), verified."""
    found = [path for name, path in verify(directory).items() if name.endswith(".uf2")]
    if len(found) != 1:
        raise KeepError(f"{_shown(Path(directory or DIR) / SUMS_NAME)} lists {len(found)} .uf2 files, not one")
    return found[0]


def bootrom(directory=None):
    """The vendored RP2040 boot ROM, verified."""
    path = verify(directory).get(BOOTROM_NAME)
    if path is None:
        raise KeepError(f"{_shown(Path(directory or DIR) / SUMS_NAME)} does not list {BOOTROM_NAME}")
    return path


def main():
    try:
        paths = verify()
    except KeepError as err:
        print(f"firmware: {err}", file=sys.stderr)
        return 1
    listed = ", ".join(sorted(paths))
    print(f"firmware: {listed} match {_shown(DIR / SUMS_NAME)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
