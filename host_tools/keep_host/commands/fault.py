"""keep fault: inject a fault into a task of a running board, over the console."""

from ..console import FAULT_KINDS
from ._console_args import add_port, client

HELP = "fault a task on purpose (fault injection); the supervisor applies its disposition"


def add_arguments(p):
    add_port(p)
    p.add_argument("task", help="task name (or slot number)")
    p.add_argument("kind", nargs="?", default="injected", choices=sorted(FAULT_KINDS),
                   metavar="KIND", help="fault kind recorded: %(choices)s (default: %(default)s)")


def main(args):
    with client(args) as c:
        r = c.fault(args.task, args.kind)
    print(r.get("fault") or f"{args.task}: faulted")
    return 0
