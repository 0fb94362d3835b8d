"""PLACEHOLDER until fw-vendor merges: the vendored Pico firmware, checked."""

import hashlib

from ..errors import KeepError
from ..paths import ROOT

DIR = ROOT / "emu" / "rp2040" / "firmware"
UF2 = DIR / "RPI_PICO-v1.28.0.uf2"
BOOTROM = DIR / "bootrom-b1.bin"


def verify():
    sums = {}
    for line in (DIR / "SHA256SUMS").read_text().splitlines():
        h, name = line.split()
        sums[name] = h
    for p in (UF2, BOOTROM):
        if not p.exists():
            raise KeepError(f"{p} is missing")
        got = hashlib.sha256(p.read_bytes()).hexdigest()
        if got != sums[p.name]:
            raise KeepError(f"{p.name}: sha256 {got[:12]}… is not {sums[p.name][:12]}…")
    return UF2, BOOTROM
