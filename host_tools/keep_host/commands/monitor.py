"""keep monitor: watch a board's console - trace decoded, text shown, damage counted.

Layers: keep_host.transport (pyserial serial_for_url: /dev/ttyUSB0, COM3, socket://host:port)
-> keep_host.trace.Decoder (text lines and trace events) -> BoardState (the
model) -> a view: rich live view on a terminal, plain lines otherwise, or
JSON lines with --json. --replay decodes a file made by --record.
"""

import sys
import time

from ..errors import KeepError
from ..transport import open_port, read_some
from ..trace import BoardState, Decoder
from ..trace import view
from ..trace.names import parse_names
from ._port_args import add_port, port as resolve_port
from ._types import nonnegative_float

HELP = "watch a board: task table, IPC, faults, logs and counters from the console trace"
PARTIAL_LINE_S = 0.3  # show a line without its newline (a prompt) after this much quiet


def add_arguments(p):
    src = p.add_mutually_exclusive_group()
    add_port(p, group=src)
    src.add_argument("--replay", metavar="FILE", help="decode a recording (from --record) at full speed")
    p.add_argument("--record", metavar="FILE", help="also write the raw console bytes to FILE")
    p.add_argument("--duration", type=nonnegative_float, metavar="S",
                   help="stop after S seconds of the board's time (an emulated board's clock)")
    p.add_argument("--json", action="store_true", help="one JSON object per event or text line")
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    p.add_argument("--names", metavar="SPEC",
                   help="task names: 0=supervisor,1=gpio or a JSON file {\"0\": \"supervisor\"}")


def _port_chunks(port, url, deadline, clock):
    while deadline is None or clock.now() < deadline:
        yield read_some(port, url)


RECORDING_PROBE = 1 << 18  # a recording has trace frames well within its first 256 KB


def _file_chunks(path, size=1 << 16):
    try:
        f = open(path, "rb")
    except OSError as err:
        raise KeepError(f"cannot read recording {path}: {err.strerror or err}")
    with f:
        # Decode the start first: a file that is not a recording is one
        # line, not its bytes printed as console text.
        probe = Decoder({})
        probe.feed(f.read(RECORDING_PROBE))
        if probe.counters.frames_ok == 0:
            raise KeepError(f"no trace frames in {path}: not a recording of a Keep board's "
                            "console (keep monitor --record FILE makes one)")
        f.seek(0)
        while True:
            data = f.read(size)
            if not data:
                return
            yield data


class _Output:
    """Where items go: JSON lines, plain lines, or the live view."""

    def __init__(self, board, mode, live=None):
        self.board = board
        self.mode = mode
        self.live = live
        self._shown = 0.0

    def items(self, items):
        board = self.board
        for it in items:
            board.apply(it)
            if self.mode == "json":
                print(view.json_line(it))
            elif self.mode == "plain":
                print(view.plain_line(it, board))
        if self.live is not None and time.monotonic() - self._shown > 0.2:
            self.live.update(view.render(board))
            self._shown = time.monotonic()


def main(args):
    names = parse_names(args.names)
    dec = Decoder(names)
    board = BoardState(names, dec.counters)
    tty = sys.stdout.isatty()
    mode = "json" if args.json else ("live" if tty and not args.plain and not args.replay
                                     else "plain")
    port = None
    if args.replay:
        chunks = _file_chunks(args.replay)
    else:
        from ..boardtime import clock_for

        resolve_port(args)
        clock = clock_for(args.port)  # --duration is the board's seconds
        deadline = None if args.duration is None else clock.now() + args.duration
        port = open_port(args.port, args.baud)
        chunks = _port_chunks(port, args.port, deadline, clock)
    record = None
    if args.record:
        try:
            record = open(args.record, "wb")
        except OSError as err:
            if port:
                port.close()
            raise KeepError(f"cannot write recording {args.record}: {err.strerror or err}")
    live = None
    try:
        if mode == "live":
            from rich.live import Live

            live = Live(view.render(board), refresh_per_second=4, screen=False)
            live.start()
        out = _Output(board, mode, live)
        quiet_since = time.monotonic()
        for data in chunks:
            if data:
                if record:
                    record.write(data)
                out.items(dec.feed(data))
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > PARTIAL_LINE_S:
                out.items(dec.flush_text())
                if record:
                    record.flush()
        out.items(dec.finish())
    except BrokenPipeError:  # `keep monitor ... | head`
        sys.stderr.close()
        return 0
    finally:
        if live is not None:
            live.update(view.render(board))
            live.stop()
        if record:
            record.close()
        if port:
            port.close()
    _summary(board, mode, tty and args.replay and not args.json)
    return 0


def _summary(board, mode, show_board):
    c = board.counters
    if mode == "json":
        print(view.json.dumps({"type": "counters", **c.as_dict()}))
        return
    if show_board:
        from rich.console import Console

        Console().print(view.render(board, title="keep monitor (replay)"))
    else:
        print("# " + view.counters_line(c), file=sys.stderr)
