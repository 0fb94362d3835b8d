"""Shared options and output for the console commands (tasks, hold, release, fault, call)."""

from ..console import DEFAULT_TIMEOUT_S, ConsoleClient


def add_port(p):
    p.add_argument("--port", required=True,
                   help="serial port or URL: /dev/ttyUSB0, COM3, socket://HOST:PORT")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help="give up after S seconds without an answer (default: %(default)s)")
    p.add_argument("--baud", type=int, default=115200, help="baud rate (default: %(default)s)")


def client(args):
    return ConsoleClient(args.port, timeout=args.timeout, baud=args.baud)


def task_names(c):
    """slot -> name, for messages that name a task."""
    return {t.slot: t.name for t in c.tasks()}
