"""keep call: send one op to a server on a running board and print its reply."""

from ..console import rc_name
from ..errors import UsageError
from ._console_args import add_port, client

HELP = "call a server op from the host (through the board's console proxy task)"


def add_arguments(p):
    add_port(p)
    p.add_argument("task", help="server task name (or slot number)")
    p.add_argument("op", help="op number 0..255 (decimal or 0x..)")
    p.add_argument("data", nargs="?", default="", help="request body as hex, e.g. 0201ff")


def main(args):
    try:
        op = int(args.op, 0)
    except ValueError:
        raise UsageError(f"op {args.op!r} is not a number (0..255, decimal or 0x..)")
    try:
        data = bytes.fromhex(args.data)
    except ValueError:
        raise UsageError(f"data {args.data!r} is not hex bytes (e.g. 0201ff)")
    if not 0 <= op <= 255:
        raise UsageError(f"op {op} out of range 0..255")
    with client(args) as c:
        rc, reply = c.call(args.task, op, data)
    print(f"rc {rc} ({rc_name(rc)}) data {reply.hex() or '-'} ({len(reply)} bytes)")
    return 0 if rc >= 0 else 1
