"""Host side of the console command channel (device side: firmware/runtime/console.py).

    with ConsoleClient("socket://127.0.0.1:4000") as c:
        for t in c.tasks():
            print(t.slot, t.name, t.state_text)
        c.hold("blinky"); c.release("blinky"); c.fault("gpio", "memory")
        rc, data = c.call("gpio", 1, b"\\x02")

Requests are lines `0x1F '?' SEQ ' ' COMMAND ARGS '*' CRC '\\n'` written to
the board's console; replies are lines `0x1F '=' SEQ ' ' JSON '*' CRC`
among whatever else the board prints. The reply scan runs the console
through keep_host.trace.Splitter, so trace frames never reach it and a
reply line is only taken whole, with its CRC and SEQ right.

Invariants:
- Never sends Ctrl-C (0x03) or anything else a board or terminal acts on:
  the kernel keeps running.
- A request with no answer is resent with the same SEQ; the board answers
  a resend from its cache without running the command again, so a lost
  reply never doubles a fault, a restart or a call.
- Every failure is a KeepError with one line: port problems, no answer,
  a board-side refusal (unknown task, bad argument).
- Timeouts and resends are in board time (keep_host.boardtime): the same
  3 s hold on a real board, the unix board and the emulated Pico.
"""

import json
import random
from dataclasses import dataclass

from . import abi
from .errors import KeepError
from .trace.frame import crc16  # the same CRC-16/CCITT-FALSE as trace frames
from .transport import close_quietly, open_port, read_some

START = bytes([abi.CONSOLE_START])
REQ = chr(abi.CONSOLE_REQ)
REP = chr(abi.CONSOLE_REP)
DEFAULT_TIMEOUT_S = 3.0
RESEND_S = 0.6
FAULT_KINDS = {name: num for num, name in abi.FAULT_NAMES.items()}


class ConsoleError(KeepError):
    """The board answered and refused (no such task, bad argument...)."""


def encode_request(seq, words):
    """The bytes of one request line."""
    text = " ".join(str(w) for w in words)
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in text.replace(" ", "")):
        raise KeepError(f"console request {text!r}: only printable ASCII words can be sent")
    body = f"{REQ}{seq:04x} {text}".encode()
    return START + body + b"*%04x\n" % crc16(body)


def parse_reply(line):
    """(seq, obj) for a reply text line (without its newline), else None."""
    if not line.startswith(START.decode() + REP):
        return None
    star = line.rfind("*")
    raw = line[1:star].encode()
    try:
        if star < 0 or int(line[star + 1:star + 5], 16) != crc16(raw):
            return None
        seq, js = line[2:star].split(" ", 1)
        return int(seq, 16), json.loads(js)
    except ValueError:
        return None


@dataclass
class TaskRow:
    slot: int
    name: str
    state: int
    base: int
    prio: int
    gen: int
    restarts: int
    peer: int
    fault: str = None

    @property
    def state_name(self):
        return abi.STATE_NAMES[self.state] if 0 <= self.state < len(abi.STATE_NAMES) else "?"

    def state_text(self, names=None):
        """State, with the peer for in_send / in_reply: `in_send(gpio)`."""
        s = self.state_name
        if self.state in (abi.ST_IN_SEND, abi.ST_IN_REPLY):
            s += f"({(names or {}).get(self.peer, self.peer)})"
        return s


class ConsoleClient:
    """Requests over a console port. `transport` (tests) is anything with
    pyserial's write(), read(n), in_waiting and close()."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT_S, baud=115200, transport=None,
                 resend_s=RESEND_S, clock=None):
        from .boardtime import clock_for

        self.port = port
        self.clock = clock or clock_for(port)
        self.timeout = timeout
        self.baud = baud
        self.resend_s = resend_s
        self.transport = transport
        self.seq = random.randrange(1, 0xFFFF)
        self.text = []  # console text lines seen while waiting (most recent last)
        self.resends = 0
        from .trace import Splitter

        self._split = Splitter()

    def open(self):
        if self.transport is None:
            self.transport = open_port(self.port, self.baud, timeout=0.05)
        return self

    def close(self):
        self.transport = close_quietly(self.transport)

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        return read_some(self.transport, self.port, limit=4096)

    def request(self, *words):
        """Send one request; return the reply object (ConsoleError on a refusal)."""
        if self.transport is None:
            self.open()
        self.seq = self.seq % 0xFFFF + 1
        seq = self.seq
        line = encode_request(seq, words)
        now = self.clock.now
        end = now() + self.timeout
        next_send = None
        while True:
            t = now()
            if t >= end:
                break
            if next_send is None or t >= next_send:
                if next_send is not None:
                    self.resends += 1
                try:
                    self.transport.write(line)
                except OSError as err:
                    raise KeepError(f"cannot write to {self.port}: {err}")
                next_send = t + self.resend_s
            for item in self._split.feed(self._read()):
                if item[0] != "text":
                    continue  # a trace frame: not for us
                got = parse_reply(item[1])
                if got is None:
                    if not item[1].startswith(START.decode()):
                        self.text = (self.text + [item[1]])[-20:]
                    continue
                if got[0] == seq:
                    obj = got[1]
                    if "err" in obj:
                        raise ConsoleError(obj["err"])
                    return obj
        raise KeepError(self._no_answer(words[0]))

    def _no_answer(self, cmd):
        tail = [t for t in self.text if t.strip()]
        hint = "is the Keep kernel running with the console channel (runtime.console)?"
        partial = "".join(item[1] for item in self._split.flush_text() if item[0] == "text")
        last = (tail[-1] if tail else "") + partial
        if ">>>" in last or "raw REPL" in last or last.endswith(">"):
            hint = "the board is at the REPL, not running the kernel; `keep deploy` boots it"
        shown = f"; last text {last[-60:]!r}" if last.strip() else ""
        return f"no answer to `{cmd}` from {self.port} in {self.timeout:g} s: {hint}{shown}"

    # ---- commands ------------------------------------------------------------

    def ping(self):
        return self.request("ping")

    def tasks(self):
        rows = self.request("tasks")["tasks"]
        return [TaskRow(*r) for r in rows]

    def hold(self, task):
        return self.request("hold", task)

    def release(self, task):
        return self.request("release", task)

    def fault(self, task, kind="injected"):
        if isinstance(kind, str) and not kind.isdigit():
            if kind not in FAULT_KINDS:
                raise KeepError(f"unknown fault kind {kind!r} (kinds: {', '.join(FAULT_KINDS)})")
            kind = FAULT_KINDS[kind]
        return self.request("fault", task, int(kind))

    def call(self, task, op, data=b""):
        """Send op (0..255) with data to a server; returns (rc, reply bytes)."""
        words = ["call", task, int(op)]
        if data:
            words.append(bytes(data).hex())
        r = self.request(*words)
        return r["rc"], bytes.fromhex(r["data"])


def rc_name(rc):
    return abi.RC_NAMES.get(rc, "ok" if rc >= 0 else "?")
