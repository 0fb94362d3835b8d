"""Shared options and output for the console commands (tasks, hold, release, fault, call)."""

from ..console import DEFAULT_TIMEOUT_S, ConsoleClient, TaskRow
from ._port_args import add_port as _add_port
from ._port_args import port
from ._types import positive_float


def add_port(p):
    _add_port(p)
    p.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help="give up after S seconds without an answer (default: %(default)s)")


def client(args):
    return ConsoleClient(port(args), timeout=args.timeout, baud=args.baud)


def task_names(c):
    """slot -> name, for messages that name a task."""
    return {t.slot: t.name for t in c.tasks()}


def add_task(p):
    """The options of keep hold and keep release: the port and a task."""
    add_port(p)
    p.add_argument("task", help="task name (or slot number)")


def task_change(op):
    """keep hold / keep release's main(): ConsoleClient.<op>(task), then one
    line with the task's state now and its new id."""

    def main(args):
        with client(args) as c:
            r = getattr(c, op)(args.task)
        st = TaskRow(r["slot"], args.task, r["state"], 0, 0, 0, 0, 0xFF).state_name
        extra = f", id {r['id']:#x} (generation {r['id'] >> 8})" if "id" in r else ""
        print(f"{args.task}: {st}{extra}")
        return 0

    return main
