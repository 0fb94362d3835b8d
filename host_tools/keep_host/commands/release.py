"""keep release: release a task of a running board, over the console."""

from ..console import TaskRow
from ._console_args import add_port, client

HELP = "start a held or faulted task again, as a fresh instance (new generation)"


def add_arguments(p):
    add_port(p)
    p.add_argument("task", help="task name (or slot number)")


def main(args):
    with client(args) as c:
        r = c.release(args.task)
    st = TaskRow(r["slot"], args.task, r["state"], 0, 0, 0, 0, 0xFF).state_name
    extra = f", id {r['id']:#x} (generation {r['id'] >> 8})" if "id" in r else ""
    print(f"{args.task}: {st}{extra}")
    return 0
