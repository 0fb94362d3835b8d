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


def print_task_change(task, r):
    """One line for hold/release: the task's state now, and its new id."""
    st = TaskRow(r["slot"], task, r["state"], 0, 0, 0, 0, 0xFF).state_name
    extra = f", id {r['id']:#x} (generation {r['id'] >> 8})" if "id" in r else ""
    print(f"{task}: {st}{extra}")
