"""The `keep` command: a registry of subcommands, one module each.

Each module in keep_host.commands defines HELP (one line), add_arguments(p)
and main(args) -> int. `main(argv)` is callable from tests; `run()` is the
console-script entry point.
"""

import argparse
import importlib
import sys

from . import __version__
from .errors import KeepError

# name -> module under keep_host.commands. Order is the order in --help.
COMMANDS = {
    "demo": "demo",
    "check": "check",
    "flash": "flash",
    "boards": "boards",
    "vboard": "vboard",
    "monitor": "monitor",
    "trace": "trace",
    "deploy": "deploy",
    "tasks": "tasks",
    "hold": "hold",
    "release": "release",
    "fault": "fault",
    "call": "call",
    "test": "test",
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keep",
        description="Keep: a microkernel for MicroPython boards, and its host tools.",
    )
    parser.add_argument("--version", action="version", version=f"keep {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(f".commands.{modname}", __package__)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "port", None):
            from .farm import resolve_port

            args.port = resolve_port(args.port)  # labgrid:PLACE -> the place's serial URL
        return args._main(args) or 0
    except KeepError as err:
        print(f"keep {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"keep {args.command}: interrupted", file=sys.stderr)
        return 130


def run():
    sys.exit(main())
