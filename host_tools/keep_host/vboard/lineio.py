"""Line endings at the console: undo what the unix port does unlike a board.

Out (board -> host). A board's print() goes through
mp_hal_stdout_tx_strn_cooked, which sends every LF as CR LF; the REPL's own
strings ("raw REPL; CTRL-B to exit\\r\\n", the readline echo) already carry
CR LF and are sent as they are. The unix port sends both as they are (its
"cooked" is a no-op: a terminal would add the CR), so the virtual board
adds a CR before each LF that has none. Trace frames hold no LF at all
(0x1E and 0x80..0xBF, docs/trace-format.md) and cross unchanged.

In (host -> board), only while the port's REPL reads (friendly or raw
REPL, input()): the unix port's mp_hal_stdin_rx_chr turns every LF into
CR, so a CR LF from the host would reach the REPL as two line ends (a
script with CRLF endings gets a blank line after every line, a line
continuation breaks). A board takes bytes as they are and its readline
and lexer read CR LF as one line end, so the virtual board sends CR LF as
CR. Bytes that running code reads from sys.stdin are not touched: the unix
port hands those over unchanged, as sys.stdin.buffer does on a board.

Invariant: both filters are exact across chunk boundaries (a CR at the end
of one chunk and the LF at the start of the next are one pair).
"""

import re

_LONE_LF = re.compile(rb"(?<!\r)\n")


class CookedOutput:
    """LF -> CR LF unless a CR is already there (board -> host)."""

    def __init__(self):
        self._cr = False  # the previous chunk ended with CR

    def feed(self, data):
        if not data:
            return b""
        out = _LONE_LF.sub(b"\r\n", data)
        if self._cr and data[:1] == b"\n":
            out = out[1:]  # this LF ends the pair the last chunk's CR began
        self._cr = data[-1:] == b"\r"
        return out


class ReplInput:
    """CR LF -> CR for the REPL of the unix port (host -> board)."""

    def __init__(self):
        self._cr = False

    def feed(self, data, repl_reading):
        if not data:
            return b""
        out = data
        if repl_reading:
            out = data.replace(b"\r\n", b"\r")
            if self._cr and out[:1] == b"\n":
                out = out[1:]
        self._cr = data[-1:] == b"\r"
        return out
