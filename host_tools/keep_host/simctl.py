"""Host side of the virtual board's control channel (firmware/hal/sim/ctl.py).

The simulated board listens on 127.0.0.1:<KEEP_SIM_CTL_PORT> and speaks
JSON lines: requests {"op": ..., "id": n, ...} each get one reply
{"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": ...}, and
events {"ev": ...} (hello, pin, dropped, uart_tx) arrive in between.

SimControl plays the world around the board: it drives inputs, reads
outputs and their timestamped history, talks on UART lines, and injects
faults. When the board resets (its process restarts) the connection
drops; the next call reconnects, waiting up to `reconnect_timeout`, and
re-applies the *physical* state it set - driven levels, stuck pins,
wires, UART line modes and noise, failed SPI devices - because a reboot
of the chip does not change what is wired to it.

The emulated Pico's runner speaks the same protocol (emu/rp2040/control.mjs)
and says `"clock": "emulated"` in its hello: waits for the board's doing
(wait_event, wait_pin, uart_read) are then counted in its board time.
"""

import json
import socket
import time

from .errors import KeepError
from .transport import close_quietly


class SimError(KeepError):
    """The board refused a control request, or could not be reached."""


class SimControl:
    def __init__(self, host="127.0.0.1", port=None, timeout=5.0, reconnect_timeout=15.0,
                 connect=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reconnect_timeout = reconnect_timeout
        self.sock = None
        self.hello = None  # the last hello event: name, reset_cause, culprit, npins
        self.clock = None  # board time (keep_host.boardtime), known from the hello
        self.connects = 0
        self._buf = b""
        self._id = 0
        self._events = []
        self._uart_rx = {}  # uart id -> bytearray of TX seen from the board
        # physical world to re-apply after a board reset, in this order
        self._drives = {}
        self._stuck = {}
        self._wires = {}
        self._uart_modes = {}
        self._noise = {}
        self._spi = {}
        if connect:
            self.connect(self.reconnect_timeout)

    # ---- connection ------------------------------------------------------------------
    def connect(self, wait=None):
        """Connect (retrying for `wait` seconds), read hello, re-apply state."""
        self.close()
        deadline = time.monotonic() + (self.timeout if wait is None else wait)
        last = None
        while True:
            try:
                s = socket.create_connection((self.host, self.port), timeout=self.timeout)
                self.sock = s
                self._buf = b""
                self.hello = self._read_until(lambda m: m.get("ev") == "hello",
                                              time.monotonic() + self.timeout)
                break
            except (OSError, EOFError) as e:
                last = e
                self.close()
                if time.monotonic() >= deadline:
                    raise SimError(f"virtual board control port {self.host}:{self.port} "
                                   f"not answering ({last}); is the board running?") from None
                time.sleep(0.05)
        self.connects += 1
        if self.clock is None:
            from .boardtime import EmulatorClock, WallClock

            emulated = self.hello.get("clock") == "emulated"
            self.clock = EmulatorClock(self.port, self.host) if emulated else WallClock()
        self._reapply()
        return self.hello

    def close(self):
        if self.clock is not None:
            self.clock.close()  # an emulator clock reconnects when next read
        self.sock = close_quietly(self.sock, OSError)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _reapply(self):
        for pin, level in self._stuck.items():
            self._call("stuck", pin=pin, level=level)
        for dst, src in self._wires.items():
            self._call("wire", src=src, dst=dst)
        for pin, level in self._drives.items():
            self._call("pin_drive", pin=pin, level=level)
        for uid, kw in self._uart_modes.items():
            self._call("uart_mode", uart=uid, **kw)
        for uid, kw in self._noise.items():
            self._call("uart_noise", uart=uid, **kw)
        for (bus, cs), fault in self._spi.items():
            try:
                self._call("spi_fault", bus=bus, cs=cs, fault=fault)
            except SimError:
                pass  # the device is attached again later in boot

    # ---- wire protocol -----------------------------------------------------------------
    def _read_line(self, deadline):
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the virtual board")
            self.sock.settimeout(left)
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("virtual board closed the control connection")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def _read_until(self, want, deadline):
        while True:
            msg = self._read_line(deadline)
            if want(msg):
                return msg
            self._take_event(msg)

    def _take_event(self, msg):
        if msg.get("ev") == "uart_tx":
            self._uart_rx.setdefault(msg["uart"], bytearray()).extend(bytes.fromhex(msg["data"]))
        elif "ev" in msg:
            self._events.append(msg)

    def _call(self, op, **fields):
        self._id += 1
        rid = self._id
        req = dict(fields, op=op, id=rid)
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        rep = self._read_until(lambda m: "ev" not in m and m.get("id") == rid,
                               time.monotonic() + self.timeout)
        if not rep.get("ok"):
            raise SimError(f"virtual board refused {op}: {rep.get('error')}")
        return rep

    def call(self, op, **fields):
        """One request; reconnects once (after a board reset) and retries."""
        if self.sock is None:
            self.connect(self.reconnect_timeout)
        try:
            return self._call(op, **fields)
        except (OSError, EOFError, TimeoutError):
            self.connect(self.reconnect_timeout)
            return self._call(op, **fields)

    # ---- events ------------------------------------------------------------------------
    def pump(self, seconds=0.0):
        """Read events for up to `seconds` (a ping makes sure pending ones arrive)."""
        self.call("ping")
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                self._take_event(self._read_line(deadline))
        except TimeoutError:
            pass

    def events(self, ev=None):
        """Drain and return the events received so far (of kind `ev`)."""
        keep, out = [], []
        for m in self._events:
            (out if ev is None or m.get("ev") == ev else keep).append(m)
        self._events = keep
        return out

    def wait_event(self, match, timeout=5.0):
        """The first event for which match(event) is true (it is consumed);
        `timeout` is in board seconds."""
        if self.sock is None:
            self.connect(self.reconnect_timeout)
        deadline = self.clock.now() + timeout
        while True:
            for i, m in enumerate(self._events):
                if match(m):
                    return self._events.pop(i)
            if self.clock.now() >= deadline:
                raise SimError(f"no matching event from the virtual board in {timeout}s")
            self.pump(0.05)

    def wait_pin(self, pin, level, timeout=5.0):
        """Wait for output `pin` to change to `level`; returns the event."""
        return self.wait_event(lambda m: m.get("ev") == "pin" and m["pin"] == pin
                               and m["level"] == level, timeout)

    # ---- pins --------------------------------------------------------------------------
    def _set_pin(self, op, held, pin, level):
        """Ask for `op` on `pin` (level 0/1, None to stop) and note it in
        `held` (pin -> level, for restoring after a reboot); the pin's level."""
        level = None if level is None else int(bool(level))
        rep = self.call(op, pin=pin, level=level)
        if level is None:
            held.pop(pin, None)
        else:
            held[pin] = level
        return rep["level"]

    def drive_pin(self, pin, level):
        """Drive input `pin` to 0/1; None stops driving it (its pull decides)."""
        return self._set_pin("pin_drive", self._drives, pin, level)

    def read_pin(self, pin):
        return self.call("pin_read", pin=pin)["level"]

    def pin_info(self, pin):
        """level, mode ('in'/'out'), driven, stuck."""
        rep = self.call("pin_read", pin=pin)
        return {k: rep[k] for k in ("level", "mode", "driven", "stuck")}

    def pin_history(self, pin=None):
        """[(pin, level, t_us)] of the output changes the board still holds."""
        rep = self.call("pin_history", **({} if pin is None else {"pin": pin}))
        return [tuple(c) for c in rep["changes"]]

    def stuck_pin(self, pin, level):
        """Fault: hold `pin` at `level` whatever drives it; None clears it."""
        return self._set_pin("stuck", self._stuck, pin, level)

    def wire(self, src, dst):
        """Connect output `src` to input `dst`; src None removes the wire."""
        self.call("wire", src=src, dst=dst)
        if src is None:
            self._wires.pop(dst, None)
        else:
            self._wires[dst] = src

    # ---- uart --------------------------------------------------------------------------
    def uart_mode(self, uart_id, mode, host="127.0.0.1", port=None):
        """'loop' (TX back to RX), 'host' (TX to this object), 'bridge' (TCP)."""
        kw = {"mode": mode}
        if mode == "bridge":
            kw.update(host=host, port=port)
        self.call("uart_mode", uart=uart_id, **kw)
        self._uart_modes[uart_id] = kw

    def uart_inject(self, uart_id, data):
        """Bytes arriving at the board's RX; returns how many it accepted."""
        return self.call("uart_inject", uart=uart_id, data=bytes(data).hex())["n"]

    def uart_read(self, uart_id, timeout=0.5, n=None):
        """TX the board sent on a 'host'-mode UART (waits for n bytes if given;
        `timeout` in board seconds)."""
        if self.sock is None:
            self.connect(self.reconnect_timeout)
        deadline = self.clock.now() + timeout
        while True:
            self.pump(0.02)
            got = self._uart_rx.get(uart_id, bytearray())
            if (n is not None and len(got) >= n) or (n is None and got) \
                    or self.clock.now() >= deadline:
                break
        data = bytes(got[:n] if n is not None else got)
        del got[:len(data)]
        return data

    def uart_noise(self, uart_id, rate, kind="flip", seed=None):
        """Line noise on the board's RX: per-byte probability of a bit flip
        ('flip') or an extra random byte ('insert'); 0 turns it off."""
        kw = {"rate": float(rate), "kind": kind}
        if seed is not None:
            kw["seed"] = seed
        self.call("uart_noise", uart=uart_id, **kw)
        if rate:
            self._noise[uart_id] = kw
        else:
            self._noise.pop(uart_id, None)

    # ---- spi ---------------------------------------------------------------------------
    def spi_fail(self, bus, cs, on=True, kind="dead"):
        """Make the device at (bus, cs) stop answering ('dead': MISO reads
        0xFF) or stay busy forever ('busy'); on=False heals it."""
        fault = kind if on else None
        self.call("spi_fault", bus=bus, cs=cs, fault=fault)
        if fault is None:
            self._spi.pop((bus, cs), None)
        else:
            self._spi[(bus, cs)] = fault

    def spi_peek(self, bus, cs, addr, n):
        """Contents of the NOR flash at (bus, cs), read behind the bus."""
        return bytes.fromhex(self.call("spi_peek", bus=bus, cs=cs, addr=addr, n=n)["data"])

    # ---- board -------------------------------------------------------------------------
    def status(self):
        return self.call("status")

    def ping(self):
        self.call("ping")

    def wdt_reset(self):
        """Reset the board as its watchdog would; returns once it is back."""
        self.call("wdt")
        return self.wait_reboot()

    def reset(self):
        """Soft-reset the board; returns once it is back (the new hello)."""
        self.call("reset")
        return self.wait_reboot()

    def wait_reboot(self):
        """Wait for the board to go away and come back; returns its hello."""
        deadline = time.monotonic() + self.reconnect_timeout
        try:
            while time.monotonic() < deadline:
                self._take_event(self._read_line(deadline))
        except (OSError, EOFError, TimeoutError):
            pass
        return self.connect(self.reconnect_timeout)
