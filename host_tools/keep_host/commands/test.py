"""keep test: run the HIL suite (pytest with the keep_hil plugin) against a board."""

import os

from .. import ports
from ..errors import KeepError
from ..hil import ports as hil_ports
from ._port_args import PORT_HELP

HELP = "run HIL tests with pytest against a board (keep test -p vboard tests/hil)"
PASSES_ON = True  # arguments keep test does not know go to pytest, in order


def add_arguments(p):
    p.usage = "keep test [-h] [-p PORT] [--board BOARD] [--app APP] [pytest args...]"
    p.epilog = ("Every other argument goes to pytest, in order: test paths (default: the "
                "project's tests/hil), -k EXPR, -x, -n N, --keep-log-dir DIR, --keep-timeout S, "
                "--keep-heap SIZE... (python -m pytest --help lists them; pytest's own -p "
                "is not available here: -p is the port, as in every keep command).")
    p.add_argument("-p", "--port", metavar="PORT",
                   help=f"{hil_ports.VBOARD} (a fresh virtual board, the default), or a comma-"
                        "separated list, one per pytest-xdist worker, of: " + PORT_HELP)
    p.add_argument("--board", help="board name (default: the one the port's USB id matches; "
                                   "unix for a virtual board)")
    p.add_argument("--app", help="app to deploy (default: the tests' keep_app markers)")


def _check(spec, board):
    """Each port of --port opens (one line if not) and has a board; -> the board."""
    from ..boards import load_board
    from ..transport import open_port

    if board:
        load_board(board)  # an unknown name is one line here, not an error per test
    boards = set()
    for name in hil_ports.split(spec):
        if name == hil_ports.VBOARD:
            boards.add(board or "unix")
            continue
        if name.startswith(hil_ports.LABGRID):
            ports.name_to_device(name)  # held by us? (one line if not); its board: the tag
            continue
        dev = ports.name_to_device(name)
        open_port(dev).close()
        found = board or next((a.board for a in ports.attached() if a.device == dev), None)
        boards.add(hil_ports.board_for(dev, found))
    if len(boards) > 1:
        raise KeepError(f"--port {spec} has boards of different kinds ({', '.join(sorted(boards))})"
                        ": one keep test runs one kind; give --board")
    return boards.pop() if boards else board


def main(args):
    import pytest

    from .. import paths

    spec = args.port or ports.configured()[0] or hil_ports.VBOARD
    board = _check(spec, args.board)
    argv = ["--port", spec]
    if board and (args.board or spec != hil_ports.VBOARD):
        argv += ["--board", board]
    if args.app:
        argv += ["--app", args.app]
    rest = list(getattr(args, "rest", []))
    if not any(os.path.exists(a.split("::")[0]) for a in rest if not a.startswith("-")):
        rest.append(str(paths.ROOT / "tests" / "hil"))
    return int(pytest.main(argv + rest))
