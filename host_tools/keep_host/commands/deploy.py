"""keep deploy: compile, copy what changed, boot the kernel (see docs/deploy.md)."""

import argparse
import sys

from .. import deploy as dep
from .. import portlock
from ._port_args import add_port, port
from ._wiring_arg import add_wiring

HELP = "compile the firmware and an app to .mpy, copy what changed to a board, boot the kernel"


def add_arguments(p):
    add_port(p, baud=False)  # mpremote's serial speed: a USB console ignores it anyway
    p.add_argument("--app", required=True, help="app name (firmware/apps/NAME), directory or app.toml")
    p.add_argument("--board", help="board to compile for (default: the manifest's)")
    add_wiring(p)
    p.add_argument("--firmware", metavar="DIR",
                   help="firmware tree to deploy (default: the project's firmware/)")
    p.add_argument("--romfs", action="store_true",
                   help="pack the compiled modules into one ROMFS image for the board's ROMFS "
                        "partition (bytecode runs from flash, not the heap; virtual board)")
    p.add_argument("--monolithic", action="store_true",
                   help="the build without isolation: drivers called in their callers' tasks, no "
                        "server tasks, no supervisor (docs/tradeoff.md)")
    p.add_argument("--no-boot", action="store_true",
                   help="copy only; leave the board in the raw REPL without resetting it")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar: one line per file, even on a terminal")
    p.add_argument("--plain", action="store_true", dest="no_progress", help=argparse.SUPPRESS)


def _line(kind, path, size):
    """The line a deploy event prints, None for those only the bar shows."""
    return {"upload": f"uploaded {path} ({size} B)", "remove": f"removed {path}",
            "switch": f"switched to {path}",
            "kept": f"kept the board's own boot.py as {path}"}.get(kind)


class _Plain:
    def __call__(self, kind, path, size):
        line = _line(kind, path, size)
        if line:
            print(line, flush=True)


class _Bar:
    """A rich progress bar over the files of the plan."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[file]}"),
                                 transient=True)
        self.task = None

    def __call__(self, kind, path, size):
        if kind == "plan":
            self.progress.start()
            self.task = self.progress.add_task("deploy", total=size, file="")
        elif kind in ("upload", "skip") and self.task is not None:
            self.progress.update(self.task, advance=1, file=path)
        elif kind != "upload" and _line(kind, path, size):
            self.progress.console.print(_line(kind, path, size))

    def stop(self):
        self.progress.stop()


def main(args):
    show = _Plain() if args.no_progress or not sys.stdout.isatty() else _Bar()
    try:
        # Held for the whole deploy: mpremote opens the port itself, and a
        # `keep monitor` started meanwhile would take it from under it.
        with portlock.held(port(args)):
            result = dep.deploy(args.port, args.app, args.board, progress=show,
                                boot=not args.no_boot, firmware=args.firmware,
                                romfs=args.romfs, monolithic=args.monolithic,
                                wiring=args.wiring)
    finally:
        if isinstance(show, _Bar):
            show.stop()
    print(result.summary())
    return 0
