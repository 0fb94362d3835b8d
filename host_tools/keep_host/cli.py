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
    "ports": "ports",
    "check": "check",
    "flash": "flash",
    "boards": "boards",
    "vboard": "vboard",
    "monitor": "monitor",
    "trace": "trace",
    "deploy": "deploy",
    "build": "build",
    "tasks": "tasks",
    "hold": "hold",
    "release": "release",
    "fault": "fault",
    "call": "call",
    "test": "test",
    "completion": "completion",
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
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP,
                           allow_abbrev=not getattr(mod, "PASSES_ON", False))
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main, _passes_on=getattr(mod, "PASSES_ON", False))
    return parser


def main(argv=None):
    parser = build_parser()
    # A command with PASSES_ON (keep test) hands the arguments it does not
    # know to the tool it runs, in order; any other command refuses them.
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "_passes_on", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        return args._main(args) or 0
    except KeepError as err:
        print(f"keep {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"keep {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `keep ... | head` stopped reading: not an error of ours
        _quiet_stdout()
        return 0


def _quiet_stdout():
    """After a broken pipe, point stdout at /dev/null so the interpreter's
    final flush does not report the same broken pipe."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run():
    sys.exit(main())
