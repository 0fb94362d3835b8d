"""keep deploy: compile, copy what changed, boot the kernel (see docs/deploy.md)."""

import sys

from .. import deploy as dep

HELP = "compile the firmware and an app to .mpy, copy what changed to a board, boot the kernel"


def add_arguments(p):
    p.add_argument("--port", required=True,
                   help="serial port or URL: /dev/ttyUSB0, COM3, socket://HOST:PORT")
    p.add_argument("--app", required=True, help="app name (firmware/apps/NAME), directory or app.toml")
    p.add_argument("--board", help="board to compile for (default: the manifest's)")
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
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")


class _Plain:
    def __call__(self, kind, path, size):
        if kind == "upload":
            print(f"uploaded {path} ({size} B)", flush=True)
        elif kind == "remove":
            print(f"removed {path}", flush=True)


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
        elif kind == "remove":
            self.progress.console.print(f"removed {path}")

    def stop(self):
        self.progress.stop()


def main(args):
    show = _Plain() if args.plain or not sys.stdout.isatty() else _Bar()
    try:
        result = dep.deploy(args.port, args.app, args.board, progress=show,
                            boot=not args.no_boot, firmware=args.firmware,
                            romfs=args.romfs, monolithic=args.monolithic)
    finally:
        if isinstance(show, _Bar):
            show.stop()
    print(result.summary())
    return 0
