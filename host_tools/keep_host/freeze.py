"""Freeze an app into a MicroPython firmware image: bytecode in flash.

    path, board = write_manifest("chaos", "rpi_pico", wiring="board")  # build/frozen/chaos-rpi_pico/
    build_image(path, board, sources="/path/to/git/repos")  # ...RPI_PICO-<tag>-frozen.uf2 (Pico only)

A deployed module is loaded into the heap: its bytecode, its qstrs, its
function objects. A frozen one is compiled into the firmware and runs from
flash, costing the heap only what it allocates when it runs. keep build
writes a MicroPython manifest (docs.micropython.org, "MicroPython
manifest files") that freezes exactly the files `keep deploy` would put on
the board for that app and board - the same list, keep_host.deploy.gather():
the kernel, runtime, the board's HAL, servers, clients, the app's modules,
its generated app_table.py, and main.py (which starts the kernel) - on top
of the port's own manifest (`include("$(PORT_DIR)/boards/manifest.py")`:
_boot.py, asyncio, ...).

For the Pico, build_image() hands the manifest to emu/rp2040/build_firmware.py
(FROZEN_MANIFEST=..., MicroPython's rp2 make variable), which builds the
pinned MicroPython from source (it needs the ARM toolchain and the sources:
cloned from GitHub, or --sources DIR). For the ESP32 the manifest is the
input of an ESP-IDF build of ports/esp32 (`make BOARD=... FROZEN_MANIFEST=...`),
which keep does not run. docs/freeze.md says more.

Invariants: the manifest's freeze() lines are the deploy plan's modules,
one each, every path absolute (the build runs in MicroPython's tree); boot.py
is not frozen (it picks a deployed slot, which then goes ahead of the frozen
modules in sys.path, so a later `keep deploy` still wins).
"""

import subprocess
import sys
from pathlib import Path

from . import paths
from .deploy import gather
from .errors import KeepError

OUT = paths.ROOT / "build" / "frozen"
PORT_MANIFEST = "$(PORT_DIR)/boards/manifest.py"
BUILD_SCRIPT = paths.ROOT / "emu" / "rp2040" / "build_firmware.py"
IMAGE_BOARDS = ("rpi_pico",)  # the boards build_image() can build firmware for
FROZEN_ROOT = ("main.py",)  # of deploy's root files, the ones frozen


def base_of(path, name):
    """The folder `name` ("keep/kernel.py") is relative to, given its source path."""
    base = Path(path).resolve()
    for _ in Path(name).parts:
        base = base.parent
    return base


def manifest_text(sources, table_dir, header=""):
    """The manifest.py text for gather()'s Sources; app_table.py is in table_dir."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append(f"include({PORT_MANIFEST!r})")
    entries = dict(sources.modules)
    entries["app_table.py"] = Path(table_dir) / "app_table.py"
    entries.update((name, sources.root[name]) for name in FROZEN_ROOT)
    for name, path in entries.items():
        lines.append(f"freeze({str(base_of(path, name))!r}, {name!r})")
    return "\n".join(lines) + "\n"


def write_manifest(app, board=None, out=None, firmware=None, apps_root=None, monolithic=False,
                   wiring=None):
    """Write manifest.py and app_table.py to `out` (default build/frozen/APP-BOARD);
    returns (the manifest's Path, the board's name). wiring: as keep deploy's."""
    sources = gather(app, board, firmware, apps_root, monolithic, wiring)
    b = sources.board
    if b.chip == "sim":
        raise KeepError(f"{b.name} is a virtual board with no firmware image to freeze into: "
                        "give --board (a real board: keep boards)")
    name = sources.report.app.name
    out = Path(out or OUT / f"{name}-{b.name}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "app_table.py").write_text(sources.table)
        header = (f"MicroPython manifest freezing Keep app {name} for board {b.name}: the files\n"
                  f"`keep deploy` puts on the board, written by `keep build`. Build with\n"
                  f"the port's FROZEN_MANIFEST=<this file> (docs/freeze.md).")
        path = out / "manifest.py"
        path.write_text(manifest_text(sources, out, header))
    except OSError as err:
        raise KeepError(f"cannot write {out}: {err.strerror or err}")
    return path, b.name


def build_image(manifest, board="rpi_pico", sources=None, build_dir=None, jobs=None):
    """Build the Pico firmware with the manifest frozen in (build_firmware.py's
    output streams through); returns the UF2's Path."""
    if board not in IMAGE_BOARDS:
        raise KeepError(f"keep build --image builds firmware for {', '.join(IMAGE_BOARDS)} only; "
                        f"for {board} build the port yourself with FROZEN_MANIFEST={manifest} "
                        "(docs/freeze.md)")
    build_dir = Path(build_dir or Path(manifest).parent / "firmware")
    cmd = [sys.executable, str(BUILD_SCRIPT), "--frozen-manifest", str(manifest),
           "--build-dir", str(build_dir)]
    if sources:
        cmd += ["--sources", str(sources)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if subprocess.run(cmd).returncode != 0:
        raise KeepError(f"the firmware build failed (its last line is above; full log in "
                        f"{build_dir / 'build.log'})")
    found = sorted(build_dir.glob("*-frozen.uf2"))
    if not found:
        raise KeepError(f"the firmware build wrote no *-frozen.uf2 in {build_dir}")
    return found[-1]
