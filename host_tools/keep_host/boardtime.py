"""Board time: how long the host waits for a board, counted on the board.

A real board and the unix virtual board run at wall-clock speed, so their
clock is the host's monotonic clock. The emulated Pico runs at a fraction
of real speed (less still on a loaded machine), and its time is the
emulated 125 MHz clock: a wait of "3 s" means 3 s of the board's time, so
the same wait holds on a real board, the emulator and a busy CI machine.

    clock = clock_for(port)          # WallClock or EmulatorClock
    deadline = Deadline(3.0, clock)
    while not deadline.expired(): ...

The emulator's clock never runs ahead of the wall clock (it follows it while
the chip sleeps and falls behind while it computes), so a board-time wait is
never shorter than the same wall-clock wait.
"""

import json
import socket
import time

from .errors import KeepError


class WallClock:
    kind = "wall"

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)

    def close(self):
        pass


class EmulatorClock:
    """The emulated chip's clock, read over its control channel."""

    kind = "emulated"

    def __init__(self, ctl_port, host="127.0.0.1", timeout=5.0):
        self.addr = (host, ctl_port)
        self.timeout = timeout
        self._sock = None
        self._buf = b""
        self._base = 0.0  # board seconds before the current chip (it restarts at 0 on reset)
        self._last = (0, 0.0)  # (boots, seconds) last read

    def _connect(self):
        self.close()
        self._sock = socket.create_connection(self.addr, timeout=self.timeout)
        self._buf = b""

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _ask(self):
        self._sock.sendall(b'{"op": "clock", "id": 0}\n')
        while True:
            while b"\n" not in self._buf:
                data = self._sock.recv(4096)
                if not data:
                    raise EOFError
                self._buf += data
            line, self._buf = self._buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("id") == 0 and "us" in msg:
                return msg

    def now(self):
        """Seconds of board time since this clock first looked (monotonic
        across chip resets, which restart the chip's own counter)."""
        for attempt in (0, 1):
            try:
                if self._sock is None:
                    self._connect()
                msg = self._ask()
                break
            except (OSError, EOFError, ValueError) as err:
                self.close()
                if attempt:
                    raise KeepError(f"emulated board at port {self.addr[1]} is gone ({err})") from None
        boots, secs = msg["boots"], msg["us"] / 1e6
        last_boots, last_secs = self._last
        if boots != last_boots and last_boots:
            self._base += last_secs  # a new chip: its clock started again at 0
        self._last = (boots, secs)
        return self._base + secs


    def sleep(self, seconds, poll_s=0.02):
        """Sleep until `seconds` of board time have passed."""
        end = self.now() + seconds
        while True:
            left = end - self.now()
            if left <= 0:
                return
            time.sleep(min(poll_s, left))


class Deadline:
    """A point `seconds` of board time from now."""

    def __init__(self, seconds, clock=None):
        self.clock = clock or WallClock()
        self.seconds = seconds
        self.end = self.clock.now() + seconds

    def remaining(self):
        return max(0.0, self.end - self.clock.now())

    def expired(self):
        return self.clock.now() >= self.end


def wall_seconds(port, seconds):
    """A wait given to code that only knows the wall clock (mpremote's own
    timeouts): `seconds` of board time, divided by the declared speed of an
    emulated board registered at `port` (1.0 for anything else)."""
    from .vboard import registry

    info = registry.lookup(port) if isinstance(port, str) else None
    speed = float((info or {}).get("speed") or 1.0)
    return seconds / speed


def clock_for(port):
    """The clock of the board at `port`: an emulator's if one is registered
    there (keep_host.vboard.registry), else the wall clock."""
    from .vboard import registry

    info = registry.lookup(port) if isinstance(port, str) else None
    if info and info.get("clock") == "emulated" and info.get("ctl_port"):
        return EmulatorClock(info["ctl_port"])
    return WallClock()
