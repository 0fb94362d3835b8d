"""In-band messages from the boot code to the virtual board.

The boot code that wraps boot.py/main.py tells the host two things through
the console itself, as APC escape sequences (ESC _ ... ESC \\) that terminals
ignore and the board strips before anyone sees them:

  READY  the interpreter is up and Ctrl-C now raises KeyboardInterrupt
         (input typed earlier was held back so it could not kill a
         half-started process);
  RESET  boot.py/main.py asked for a soft reset (sys.exit(),
         machine.soft_reset()); the unix port's `-i` would otherwise drop
         into the REPL, so the host restarts the process instead.

Invariant: MarkerScanner.feed() returns every byte it was given except the
markers, in order; a marker split across reads is still found (the
possible start of one is held back until the next read decides it).
"""

PREFIX = b"\x1b_keep-"
END = b"\x1b\\"
READY = PREFIX + b"ready" + END
RESET = PREFIX + b"reset" + END
_MAX = 32  # longest marker we accept; longer "markers" are passed through


class MarkerScanner:
    def __init__(self):
        self._held = b""

    def feed(self, data):
        """-> (clean_bytes, [marker names]) for this chunk."""
        buf = self._held + bytes(data)
        self._held = b""
        out = bytearray()
        found = []
        i = 0
        while True:
            j = buf.find(PREFIX, i)
            if j < 0:
                # Hold back a tail that could be the start of PREFIX.
                tail = _partial_prefix_len(buf, max(i, len(buf) - len(PREFIX) + 1))
                out += buf[i:len(buf) - tail]
                self._held = buf[len(buf) - tail:] if tail else b""
                break
            out += buf[i:j]
            k = buf.find(END, j + len(PREFIX))
            if k < 0:
                if len(buf) - j < _MAX:
                    self._held = buf[j:]
                else:
                    out += buf[j:j + len(PREFIX)]
                    i = j + len(PREFIX)
                    continue
                break
            if k + len(END) - j > _MAX:
                out += buf[j:j + len(PREFIX)]
                i = j + len(PREFIX)
                continue
            found.append(buf[j + len(PREFIX):k].decode("ascii", "replace"))
            i = k + len(END)
        return bytes(out), found

    def flush(self):
        """Bytes held back (call when the stream ends)."""
        held, self._held = self._held, b""
        return held


def _partial_prefix_len(buf, start):
    """Length of the longest suffix of buf (starting at >= start) that is a
    proper prefix of PREFIX."""
    for s in range(max(start, 0), len(buf)):
        if PREFIX.startswith(buf[s:]):
            return len(buf) - s
    return 0
