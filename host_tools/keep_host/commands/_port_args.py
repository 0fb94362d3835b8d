"""The options every command that talks to a board shares: -p/--port, -b/--baud."""

from .. import ports
from ._types import positive_int

PORT_HELP = ("serial port or URL: /dev/ttyUSB0, COM3, socket://HOST:PORT, id:SERIAL "
             f"(default: ${ports.ENV}, port in the nearest {ports.CONFIG}, else the one "
             "board attached by USB; keep ports lists them)")


def add_port(p, baud=True, group=None):
    (group or p).add_argument("-p", "--port", metavar="PORT", help=PORT_HELP)
    if baud:
        p.add_argument("-b", "--baud", type=positive_int, default=115200,
                       help="baud rate of a serial port (default: %(default)s)")


def port(args, board=None):
    """The port to open for this command (KeepError in one line if there is none)."""
    args.port = ports.resolve(args.port, board=board)
    return args.port
