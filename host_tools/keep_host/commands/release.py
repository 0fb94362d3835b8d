"""keep release: release a task of a running board, over the console."""

from ._console_args import add_task as add_arguments  # noqa: F401  (the command's interface)
from ._console_args import task_change

HELP = "start a held or faulted task again, as a fresh instance (new generation)"
main = task_change("release")
