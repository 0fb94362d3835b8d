"""keep check: lint an app manifest against its board; optionally write its device table."""

import sys
from pathlib import Path

from ..errors import KeepError
from ..manifest import check_app

HELP = "check an app manifest (app.toml) against its board"


def add_arguments(p):
    p.add_argument("app", metavar="APP",
                   help="app name (firmware/apps/NAME), app directory or path to app.toml")
    p.add_argument("--board", help="board to check against (default: the manifest's)")
    p.add_argument("--table", metavar="FILE",
                   help="when clean, write the device table (app_table.py) here; - for stdout")


def main(args):
    report = check_app(args.app, board=args.board)
    if not report.ok:
        # One line per problem on stdout (it is the command's output, for
        # grep and editors); the verdict on stderr.
        for p in report.problems:
            print(p)
        n = len(report.problems)
        print(f"keep check: {n} problem{'s' * (n != 1)} in {report.source}", file=sys.stderr)
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
