"""A console tap: everything a board printed, kept for waiting on and reading.

    tap = ConsoleTap()
    tap.feed(data)                   # from the thread that reads the board
    pos = tap.mark()
    tap.wait_output(b"ok", 10, since=pos, clock=clock, alive=lambda: ...)

Positions are absolute byte counts since the board started, so a mark
stays valid after old output is dropped (only the last `limit` bytes
are kept).
"""

import re
import threading
import time

from ..errors import KeepError

TAP_LIMIT = 8 << 20  # bytes of console kept for wait_output()


class BoardTimeout(KeepError):
    """wait_output() gave up; the message shows the pattern and the tail."""


class ConsoleTap:
    def __init__(self, limit=TAP_LIMIT):
        self._limit = limit
        self._tap = bytearray()
        self._base = 0
        self._cond = threading.Condition()

    def feed(self, data):
        with self._cond:
            self._tap += data
            over = len(self._tap) - self._limit
            if over > 0:
                del self._tap[:over]
                self._base += over
            self._cond.notify_all()

    def wake(self):
        """Let waiters look again (the board stopped, say)."""
        with self._cond:
            self._cond.notify_all()

    def mark(self):
        with self._cond:
            return self._base + len(self._tap)

    @property
    def text(self):
        with self._cond:
            return bytes(self._tap)

    def since(self, mark):
        with self._cond:
            return bytes(self._tap[max(0, mark - self._base):])

    def wait_output(self, pattern, timeout=10.0, since=None, clock=None, alive=None):
        """Wait until the output from `since` (default: the start) matches
        `pattern` (bytes, str or compiled bytes regex); returns the absolute
        position just after the match. `timeout` is in the board's seconds
        (`clock`, default the wall clock); `alive()` False ends the wait."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = pattern if hasattr(pattern, "search") else re.compile(re.escape(pattern))
        now = clock.now if clock is not None else time.monotonic
        deadline = now() + timeout
        start = 0 if since is None else since
        with self._cond:
            while True:
                m = rx.search(self._tap, max(0, start - self._base))
                if m:
                    return self._base + m.end()
                dead = alive is not None and not alive()
                if dead or now() >= deadline:
                    tail = bytes(self._tap[-300:]).decode(errors="replace")
                    why = "the board stopped" if dead else f"within {timeout:g}s"
                    raise BoardTimeout(f"no {rx.pattern!r} on the console {why}; "
                                       f"last output: {tail!r}")
                self._cond.wait(0.1)
