"""The stream decoder: console chunks in, Text lines and Events out.

Builds on Splitter (bytes -> text and checked frames) and adds what spans
frames: sequence numbers (lost / duplicated frames, board resets), the
board clock (SWITCH ticks_us, unwrapped at `ticks_period`), and LOG
records joined with their TEXT records into one event with `text`.

Sequence rule, with d = (seq - expected) mod 2**16:
  d == 0 -> in order; a frame identical to the previous one -> duplicated;
  first record BOOT -> the board restarted, start afresh;
  0 < d < 2**15 -> d frames lost; seq at most DUP_WINDOW behind -> duplicated
  (dropped); any other jump backwards -> counted in seq_resets.
"""

from .. import abi
from . import frame as fr
from .events import FIELDS, Event, Text, default_name
from .splitter import Counters, Splitter

TICKS_PERIOD = 1 << 30  # MicroPython's ticks_us/ticks_ms wrap here on boards
DUP_WINDOW = 64


class Decoder:
    """decoder.feed(chunk) -> [Event | Text, ...]; decoder.finish() at the end.

    names: optional {slot: name}; counters: a splitter.Counters shared with
    whoever displays them.
    """

    def __init__(self, names=None, ticks_period=TICKS_PERIOD):
        self.counters = Counters()
        self.splitter = Splitter(self.counters)
        self.names = {int(k): v for k, v in (names or {}).items()}
        self._user_names = set(self.names)  # names the board may not override
        self._period = ticks_period
        self._expect = None
        self._last_enc = None
        self._raw_ticks = None
        self.t_us = None
        self._log = None  # (event, text bytes) of a LOG still collecting TEXT
        self._out = []  # where _cut_log puts a cut LOG while a chunk is decoded

    def name(self, slot):
        return self.names.get(slot) or default_name(slot)

    # -- frames -----------------------------------------------------------
    def _sequence(self, seq, recs):
        """True if the frame is new; counts gaps and duplicates."""
        c = self.counters
        exp = self._expect
        boot = len(recs) > 0 and recs[0] == abi.TR_BOOT
        key = (seq, recs)
        if exp is not None:
            d = (seq - exp) & 0xFFFF
            if d and key == self._last_enc:
                c.frames_duplicated += 1
                return False
            if boot:
                self._reset_clock()
            elif 0 < d < 0x8000:
                c.frames_lost += d
                self._cut_log()
            elif d and 0x10000 - d <= DUP_WINDOW:
                c.frames_duplicated += 1
                return False
            elif d:
                c.seq_resets += 1
                self._cut_log()
        self._expect = (seq + 1) & 0xFFFF
        self._last_enc = key
        c.frames_ok += 1
        return True

    def _reset_clock(self):
        self._raw_ticks = None  # next SWITCH continues the timeline, no wrap maths
        self._cut_log()

    def _cut_log(self, out=None):
        """Emit a LOG whose TEXT records will not come (truncated=True)."""
        if self._log is not None:
            ev, data = self._log
            self._log = None
            ev.fields["text"] = bytes(data).decode("utf-8", "replace")
            ev.fields["truncated"] = True
            (self._out if out is None else out).append(ev)

    def _named(self, ev):
        """The board said a task's name: use it unless the user gave one."""
        if ev.slot not in self._user_names:
            self.names[ev.slot] = ev.fields["text"]
            ev.task = ev.fields["text"]

    def _records(self, seq, recs, out):
        c = self.counters
        names = self.names
        try:
            walked = list(fr.iter_records(recs))
        except fr.FrameError as err:
            c.frames_ok -= 1
            c.corrupt(str(err))
            return
        for kind, slot, a, b, p in walked:
            c.records += 1
            if self._log is not None:
                ev, data = self._log
                if kind == abi.TR_TEXT:
                    data += recs[p + 1:p + 8]
                    if len(data) >= ev.fields["length"]:
                        ev.fields["text"] = bytes(data[:ev.fields["length"]]).decode(
                            "utf-8", "replace")
                        self._log = None
                        if ev.code == abi.TR_NAME:
                            self._named(ev)
                        out.append(ev)
                    continue
                self._cut_log(out)
            if kind == abi.TR_TEXT:
                continue  # text whose LOG record was lost
            if kind == abi.TR_SWITCH:
                raw = (a | (b & 0xFFFF) << 16) % self._period
                if self.t_us is None:
                    self.t_us = raw
                elif self._raw_ticks is None:
                    self.t_us += 1
                else:
                    self.t_us += (raw - self._raw_ticks) % self._period
                self._raw_ticks = raw
            elif kind == abi.TR_BOOT and p:
                self._reset_clock()
            elif kind == abi.TR_DROPPED:
                c.records_dropped += b
            ev = Event(kind, slot, self.t_us, seq, FIELDS[kind](a, b),
                       names.get(slot) or default_name(slot))
            if (kind == abi.TR_LOG or kind == abi.TR_NAME) and a:
                self._log = (ev, bytearray())
                continue
            out.append(ev)
            if kind == abi.TR_SEND and b & abi.TR_DELIVERED:
                # The server was waiting: this one record also means it
                # received the message, at the same moment.
                dest = a & 0xFF
                out.append(Event(abi.TR_RECV, dest, self.t_us, seq,
                                 {"peer": slot, "op": a >> 8, "length": b & 0x7FFF},
                                 names.get(dest) or default_name(dest)))

    # -- driving ----------------------------------------------------------
    def _items(self, items):
        out = []
        self._out = out
        for item in items:
            if item[0] == "text":
                out.append(Text(item[1], self.t_us))
            elif self._sequence(item[1], item[2]):
                self._records(item[1], item[2], out)
        return out

    def feed(self, data):
        """Decode a chunk of console bytes; return the Events and Text lines in it."""
        return self._items(self.splitter.feed(data))

    def flush_text(self):
        """A pending partial text line (a prompt), if any, as [Text]."""
        return self._items(self.splitter.flush_text())

    def finish(self):
        """End of stream: everything still pending."""
        out = self._items(self.splitter.finish())
        self._cut_log(out)
        return out


def decode_bytes(data, names=None, chunk=65536):
    """Decode a whole recording: returns (items, counters)."""
    dec = Decoder(names)
    items = []
    for i in range(0, len(data), chunk):
        items += dec.feed(data[i:i + chunk])
    items += dec.finish()
    return items, dec.counters


def read_recording(path, names=None):
    """Decode a raw console recording file: returns (items, counters)."""
    with open(path, "rb") as f:
        return decode_bytes(f.read(), names)
