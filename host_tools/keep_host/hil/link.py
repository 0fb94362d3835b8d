"""The HIL console link: one reader of a board's console for a whole session.

A thread reads the port, splits and decodes it (keep_host.trace.Decoder) and
keeps everything in order: console text lines and trace events, each with
an index, so a test can mark "now" and wait for what comes after. While a
per-test log is set, every line and event is also written to it.

Console commands (keep_host.console.ConsoleClient) ride the same connection
through a Tap: a socket:// board serves one client at a time and a serial
port should have one owner, so nothing else opens the port while the link
is attached. Deploy and recovery need the raw REPL: they detach() the link,
use the port, and attach() the serial object they are left with.

Invariants:
- Items are only ever appended; an index taken by mark() stays valid.
- wait() timeouts are board seconds (`clock`, keep_host.boardtime).
- The reader never blocks in read(): it polls in_waiting (mpremote's serial
  objects have no read timeout).
"""

import threading
import time
from collections import deque

from ..trace import Decoder, Event
from ..trace.splitter import Counters
from ..transport import close_quietly, open_port

_COUNTED = ("frames_ok", "frames_lost", "frames_corrupt", "frames_duplicated", "garbage_bytes",
            "records", "records_dropped", "seq_resets")


def snapshot(counters):
    return {k: getattr(counters, k) for k in _COUNTED}


def fmt_item(item, names=None):
    """One log line for a Text or an Event."""
    if isinstance(item, Event):
        t = "-" if item.t_us is None else f"{item.t_us:>12d}"
        name = (names or {}).get(item.slot, item.task)
        if item.kind == "log":
            return f"[{t} us] {name:<10} log: {item.fields.get('text', '')}"
        fields = " ".join(f"{k}={v}" for k, v in item.fields.items())
        return f"[{t} us] {name:<10} {item.kind} {fields}"
    return f"| {item.text}"


def item_line(item):
    """The text expect() matches: a console line, or a task's log line."""
    if isinstance(item, Event):
        return item.fields.get("text") if item.kind == "log" else None
    return item.text


class Tap:
    """A pyserial-like transport over the link, for ConsoleClient."""

    def __init__(self, link):
        self.link = link
        self.buf = bytearray()
        self.lock = threading.Lock()
        link.taps.append(self)

    def feed(self, data):
        with self.lock:
            self.buf += data

    @property
    def in_waiting(self):
        return len(self.buf)

    def read(self, n=1):
        end = time.monotonic() + 0.05
        while not self.buf and time.monotonic() < end:
            time.sleep(0.005)
        with self.lock:
            out = bytes(self.buf[:n])
            del self.buf[:n]
        return out

    def write(self, data):
        self.link.write(data)
        return len(data)

    def close(self):
        if self in self.link.taps:
            self.link.taps.remove(self)


class Link:
    def __init__(self, port, names=None, clock=None):
        from ..boardtime import clock_for

        self.port = port
        self.clock = clock or clock_for(port)
        self.names = dict(names or {})
        self.decoder = Decoder(self.names)
        self.items = []  # Event | Text, in arrival order
        self.cond = threading.Condition()
        self.recent = deque(maxlen=40)  # formatted lines for error messages
        self.taps = []
        self.log = None  # an open text file while a test runs
        self.bytes_in = 0
        self.last_rx = 0.0
        self.ser = None
        self._thread = None
        self._stop = False
        self.error = None

    @property
    def counters(self) -> Counters:
        return self.decoder.counters

    def set_names(self, names):
        self.names.clear()
        self.names.update(names)
        self.decoder.names = {int(k): v for k, v in names.items()}

    # ---- connection ---------------------------------------------------------

    def open(self):
        self.attach(open_port(self.port, timeout=0.05))

    def attach(self, ser):
        """Start reading an open serial object (ours from now on)."""
        self.detach()
        self.ser = ser
        self._stop = False
        self.error = None
        self._thread = threading.Thread(target=self._run, name=f"hil-link {self.port}", daemon=True)
        self._thread.start()

    def detach(self):
        """Stop reading and close the port (deploy and recovery take it over)."""
        if self._thread is not None:
            self._stop = True
            self._thread.join(2)
            self._thread = None
        self.ser = close_quietly(self.ser)

    @property
    def attached(self):
        return self._thread is not None and self._thread.is_alive()

    def write(self, data):
        if self.ser is None:
            raise OSError(f"{self.port}: the HIL link is not attached")
        self.ser.write(data)

    # ---- reading --------------------------------------------------------------

    def _run(self):
        ser = self.ser
        while not self._stop:
            try:
                n = ser.in_waiting
                data = ser.read(n) if n else b""
            except Exception as err:  # the board went away (a reset on USB, a dead socket)
                self.error = f"lost {self.port}: {err}"
                break
            if not data:
                time.sleep(0.005)
                continue
            self.feed(data)

    def feed(self, data):
        self.bytes_in += len(data)
        self.last_rx = time.monotonic()
        for t in list(self.taps):
            t.feed(data)
        items = self.decoder.feed(data)
        if not items:
            return
        lines = [fmt_item(i, self.names) for i in items]
        with self.cond:
            self.items.extend(items)
            self.recent.extend(lines)
            if self.log is not None:
                self.log.write("\n".join(lines) + "\n")
                self.log.flush()
            self.cond.notify_all()

    def wait(self, since, match, timeout):
        """The first item at index >= since for which match(item) is truthy:
        (index, item, match result), or None at the timeout (board seconds)."""
        now = self.clock.now
        end = now() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.items):
                    got = match(self.items[i])
                    if got:
                        return i, self.items[i], got
                    i += 1
                left = end - now()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.1))
