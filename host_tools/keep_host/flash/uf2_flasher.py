"""RP2040-style boards: copy a checked .uf2 onto the BOOTSEL drive."""

from pathlib import Path

from ..errors import KeepError
from . import uf2


class Uf2Flasher:
    kind = "uf2"

    def __init__(self, board, roots=None):
        self.board = board
        self.f = board.flasher
        self.roots = roots  # where to look for drives; None = the usual mount points

    def check(self, path):
        from . import read_firmware

        info = uf2.validate(read_firmware(path), self.f.family_id)
        return (f"{path}: UF2 for {uf2.family_name(self.f.family_id)}, {info.blocks} blocks, "
                f"{info.payload_bytes} bytes at {info.first_addr:#x}..{info.last_addr:#x}")

    def find_drive(self):
        label = self.f.drive_label
        drives = uf2.find_drives(label, self.roots)
        if not drives:
            where = ", ".join(str(r) for r in (self.roots or uf2.default_roots()))
            raise KeepError(f"no {label} drive found under {where}: hold BOOTSEL while "
                            f"plugging the {self.board.name} in, or pass --drive DIR")
        if len(drives) > 1:
            raise KeepError(f"several {label} drives ({', '.join(map(str, drives))}); "
                            "pick one with --drive")
        return drives[0]

    def flash(self, path, port=None, erase=False, drive=None, progress=True):
        from . import read_firmware

        if erase:
            raise KeepError(f"--erase is not available for {self.board.name}: copying a UF2 "
                            "only writes its own blocks (flash a flash-nuke UF2 to erase)")
        data = read_firmware(path)
        info = uf2.validate(data, self.f.family_id)
        if drive:
            drive = Path(drive)
            if not (drive / "INFO_UF2.TXT").is_file():
                raise KeepError(f"{drive} is not a UF2 drive (no INFO_UF2.TXT in it)")
        else:
            drive = self.find_drive()
        name = Path(path).name if Path(path).suffix.lower() == ".uf2" else "firmware.uf2"
        try:
            if progress:
                dest = _copy_with_bar(data, drive, name)
            else:
                dest = uf2.copy(data, drive, name)
        except OSError as err:
            raise KeepError(f"copying to {drive} failed: {err.strerror or err} "
                            "(was the drive unplugged?)")
        return (f"copied {info.blocks} blocks to {dest}; the {self.board.name} "
                "reboots into the new firmware")


def _copy_with_bar(data, drive, name):
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                               TransferSpeedColumn)

    cols = (TextColumn("copying"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*cols, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("copy", total=len(data))
        return uf2.copy(data, drive, name, progress=lambda n: bar.update(task, completed=n))
