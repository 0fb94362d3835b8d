"""keep trace export: a console recording to Perfetto JSON, VCD or CSV.

FILE is raw console bytes as written by `keep monitor --record FILE`.
"""

from ..errors import KeepError, UsageError
from ..trace import read_recording
from ..trace.names import parse_names

HELP = "work with recorded traces: export to Perfetto, VCD or CSV"
FORMATS = ("perfetto", "vcd", "csv")


def add_arguments(p):
    sub = p.add_subparsers(dest="trace_command", metavar="SUBCOMMAND")
    e = sub.add_parser("export", help="convert a recording (keep monitor --record) for other tools",
                       description="Perfetto/Chrome trace JSON (tasks, IPC arrows, faults, heap), "
                                   "VCD (GPIO levels from pin records) or CSV (one row per event).")
    e.add_argument("file", metavar="FILE", help="raw console recording")
    e.add_argument("--to", required=True, choices=FORMATS, help="output format")
    e.add_argument("-o", "--output", required=True, metavar="OUT", help="output file")
    e.add_argument("--names", metavar="SPEC", help="task names: 0=supervisor,1=gpio or a JSON file")


def main(args):
    if getattr(args, "trace_command", None) != "export":
        raise UsageError("say what to do: keep trace export FILE --to perfetto|vcd|csv -o OUT")
    names = parse_names(args.names)
    try:
        items, counters = read_recording(args.file, names)
    except OSError as err:
        raise KeepError(f"cannot read recording {args.file}: {err.strerror or err}")
    if counters.frames_ok == 0:
        raise KeepError(f"no trace frames in {args.file}: not a recording of a Keep board's "
                        f"console (keep monitor --record FILE makes one); {args.output} not written")
    if args.to == "perfetto":
        from ..trace import export_perfetto as exporter
    elif args.to == "vcd":
        from ..trace import export_vcd as exporter
    else:
        from ..trace import export_csv as exporter
    try:
        with open(args.output, "w", newline="" if args.to == "csv" else None) as fp:
            exporter.write(items, fp, names)
    except OSError as err:
        raise KeepError(f"cannot write {args.output}: {err.strerror or err}")
    events = sum(1 for i in items if i.type == "event")
    print(f"{args.output}: {args.to}, {events} events "
          f"(frames ok {counters.frames_ok}, lost {counters.frames_lost}, "
          f"corrupt {counters.frames_corrupt})")
    return 0
