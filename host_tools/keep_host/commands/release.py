"""keep release: release a task of a running board, over the console."""

from ._console_args import add_port, client, print_task_change

HELP = "start a held or faulted task again, as a fresh instance (new generation)"


def add_arguments(p):
    add_port(p)
    p.add_argument("task", help="task name (or slot number)")


def main(args):
    with client(args) as c:
        r = c.release(args.task)
    print_task_change(args.task, r)
    return 0
