"""keep hold: hold a task of a running board, over the console."""

from ._console_args import add_task as add_arguments  # noqa: F401  (the command's interface)
from ._console_args import task_change

HELP = "stop a task on purpose (its clients get E_DEAD) until released"
main = task_change("hold")
