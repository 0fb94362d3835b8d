"""keep demo: keep deploy the chaos app to a fresh virtual board, watch its trace."""

from .. import demo
from ..errors import KeepError
from ._types import positive_float
from ._vboard_args import add_vboard

HELP = "run the chaos demo on a virtual board (a buggy server crashes, nothing is lost)"


def add_arguments(p):
    add_vboard(p)
    p.add_argument("--seconds", type=positive_float, default=30.0,
                   help="how long to run, in the board's seconds (default: %(default)s); "
                        "Ctrl-C ends it earlier")
    p.add_argument("--app", default="chaos", help="app to run (default: %(default)s)")
    p.add_argument("--live", action="store_true",
                   help="the monitor's live view (task table, IPC, faults, log) instead of lines")
    p.add_argument("--no-romfs", action="store_true",
                   help="deploy modules as files instead of one ROMFS image (their bytecode "
                        "then lives in the heap: compare the heap peaks)")
    p.add_argument("--record", metavar="FILE",
                   help="also write the console bytes to FILE, from the app's boot on (as keep "
                        "monitor --record does: keep trace export and monitor --replay read it)")
    p.add_argument("--monolithic", action="store_true",
                   help="deploy the build without isolation (drivers in their callers' tasks, "
                        "no supervisor: the first fault reboots the board; docs/tradeoff.md)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every trace event")


def main(args):
    record = None
    if args.record:
        try:
            record = open(args.record, "wb")
        except OSError as err:
            raise KeepError(f"cannot write recording {args.record}: {err.strerror or err}")
    try:
        res = demo.run_demo(seconds=args.seconds, app=args.app, board=args.board, heap=args.heap,
                            verbose=args.verbose, live=args.live, romfs=not args.no_romfs,
                            record=record, monolithic=args.monolithic, firmware=args.firmware)
    finally:
        if record is not None:
            record.close()
    print()
    for line in res.summary_lines():
        print(line)
    c = res.chaos
    if args.app == "chaos" and (not c or c.get("lost", 0)) and not args.monolithic:
        return 1
    return 0
