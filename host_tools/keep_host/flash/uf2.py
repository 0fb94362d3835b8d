"""UF2 validation, finding the BOOTSEL drive, and copying onto it.

A UF2 file is a run of 512-byte blocks, each one self-describing:

    u32 magic 0x0A324655 ("UF2\\n") | u32 magic 0x9E5D5157 | u32 flags
    | u32 target address | u32 payload size (<= 476) | u32 block number
    | u32 number of blocks | u32 file size or family id | u8[476] data
    | u32 magic 0x0AB16F30

little endian. Flag 0x2000 says the family-id field is set; a boot ROM
ignores blocks of another family, so a file for another chip would "copy"
fine and do nothing - which is why it is refused here with a reason.

Invariant: copy() writes only a file that validate() accepted.
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import ImageError

BLOCK = 512
MAGIC0, MAGIC1, MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
HEAD = struct.Struct("<8I")
MAX_PAYLOAD = 476
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FILE_CONTAINER = 0x00001000
FLAG_FAMILY_ID = 0x00002000
RP2040 = 0xE48BFF56
# Names for the families a Keep user is likely to hold by mistake (UF2 spec's
# uf2families list); unknown ids are shown as hex.
FAMILIES = {RP2040: "RP2040", 0xE48BFF59: "RP2350 (Arm)", 0xE48BFF5A: "RP2350 (RISC-V)",
            0xBFDD4EEE: "ESP32-S2", 0xC47E5767: "ESP32-S3", 0x68ED2B88: "SAMD21",
            0x55114460: "SAMD51", 0xADA52840: "nRF52840", 0x57755A57: "STM32F4"}
# Family-specific rules: the RP2040 boot ROM takes only 256-byte pages.
PAGE_RULES = {RP2040: 256}
ESP_MAGIC = 0xE9  # the first byte of an ESP image (esptool's ESPLoader.ESP_IMAGE_MAGIC)


@dataclass(frozen=True)
class Uf2Info:
    blocks: int
    payload_bytes: int
    family_id: int
    first_addr: int
    last_addr: int


def family_name(fid):
    return FAMILIES.get(fid, f"family {fid:#010x}")


def validate(data, family_id=None):
    """Check every block of a UF2 image; Uf2Info or ImageError (one line)."""
    n = len(data)
    if n and data[0] == ESP_MAGIC:
        raise ImageError("this looks like an ESP firmware image (.bin), not a UF2 file")
    if n == 0 or n % BLOCK:
        raise ImageError(f"not a UF2 file: {n} bytes is not a whole number of "
                         f"{BLOCK}-byte blocks")
    total = n // BLOCK
    payload = 0
    seen_family = None
    lo, hi = None, None
    for i in range(total):
        off = i * BLOCK
        m0, m1, flags, addr, size, blockno, nblocks, fam = HEAD.unpack_from(data, off)
        (mend,) = struct.unpack_from("<I", data, off + BLOCK - 4)
        where = f"block {i}"
        if m0 != MAGIC0 or m1 != MAGIC1 or mend != MAGIC_END:
            raise ImageError(f"not a UF2 file: {where} has bad magic numbers")
        if flags & FLAG_FILE_CONTAINER:
            raise ImageError(f"{where} is a UF2 file-container block, not firmware")
        if size > MAX_PAYLOAD:
            raise ImageError(f"{where} claims a {size}-byte payload (at most {MAX_PAYLOAD})")
        if blockno != i:
            raise ImageError(f"{where} is numbered {blockno}: blocks are out of order or missing")
        if nblocks != total:
            raise ImageError(f"{where} says the file has {nblocks} blocks, it has {total}")
        if flags & FLAG_FAMILY_ID:
            if family_id is not None and fam != family_id:
                raise ImageError(f"{where} is for {family_name(fam)}, this board needs "
                                 f"{family_name(family_id)} ({family_id:#010x})")
            seen_family = fam
        if flags & FLAG_NOT_MAIN_FLASH:
            continue
        page = PAGE_RULES.get(family_id)
        if page and (size != page or addr % page):
            raise ImageError(f"{where}: {family_name(family_id)} needs {page}-byte payloads "
                             f"at {page}-byte aligned addresses (got {size} at {addr:#x})")
        payload += size
        lo = addr if lo is None else min(lo, addr)
        hi = addr + size if hi is None else max(hi, addr + size)
    if family_id is not None and seen_family is None:
        raise ImageError(f"no block carries a family id (flag 0x2000): the "
                         f"{family_name(family_id)} boot ROM would ignore this file")
    return Uf2Info(total, payload, seen_family if seen_family is not None else -1,
                   lo or 0, hi or 0)


def default_roots():
    """Where removable drives get mounted on Linux and macOS."""
    user = os.environ.get("USER", "")
    roots = [Path("/media"), Path("/run/media") / user, Path("/Volumes"), Path("/mnt")]
    if user:
        roots.insert(1, Path("/media") / user)
    return roots


def drive_label(path):
    """Board-ID from a drive's INFO_UF2.TXT, or '' if it has none."""
    try:
        text = (Path(path) / "INFO_UF2.TXT").read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.lower().startswith("board-id:"):
            return line.split(":", 1)[1].strip()
    return ""


def find_drives(label, roots=None):
    """Mounted UF2 drives whose Board-ID or directory name is `label`."""
    found = []
    for root in roots if roots is not None else default_roots():
        try:
            subdirs = [p for p in Path(root).iterdir() if p.is_dir()]
        except OSError:
            continue
        for d in subdirs:
            if not (d / "INFO_UF2.TXT").is_file():
                continue
            if d.name == label or drive_label(d) == label:
                found.append(d)
    return sorted(set(found))


def copy(data, drive, name="firmware.uf2", progress=None, chunk=4096):
    """Write `data` to drive/name in chunks, then flush it to the device.

    `progress(done_bytes)` is called after each chunk. The boot ROM reboots
    the chip once the last block lands, and the drive may vanish while the
    file is being closed; an error after every byte was written and synced
    is therefore not a failure.
    """
    dest = Path(drive) / name
    written = 0
    with open(dest, "wb") as f:
        for i in range(0, len(data), chunk):
            f.write(data[i:i + chunk])
            written = min(len(data), i + chunk)
            if progress:
                progress(written)
        f.flush()
        try:
            os.fsync(f.fileno())
        except OSError:
            if written != len(data):
                raise
    return dest
