"""Console bytes -> text lines and checked trace frames, whatever the chunking.

The console carries text and frames interleaved. A frame is FRAME_START
(0x1E) and a run of bytes 0x80..0xBF whose length the frame's own header
fixes (frame.encoded_len). Everything else is text, decoded as UTF-8.

Invariants:
- Bytes that belong to a frame never reach the text stream, valid or not.
- Text keeps only well-formed UTF-8: a stray 0x80..0xBF byte, an invalid
  lead byte or a character cut short is counted in `garbage_bytes` and
  dropped, never shown; so is a damaged FRAME_START (any byte followed by
  four or more stray continuation bytes: the rest of its frame).
- A damaged frame costs only itself: it is counted in `frames_corrupt`
  and splitting resumes right after it (at the latest at the next
  FRAME_START).
- The result does not depend on how the bytes were cut into chunks.

Damage rule: when a non-frame byte x interrupts a frame before its declared
length, x is taken as a damaged frame byte (not text) if the byte after it
is 0x80..0xBF again, or if x would be the frame's last byte (and is not a
newline); the frame then counts as corrupt. This keeps a bit flip inside a
frame (0x9A -> 0x1A or 0xDA) from leaking one byte of garbage as text.
"""

import codecs
import re

from .. import abi
from . import frame as fr

_START = bytes([abi.FRAME_START])
_RUN = re.compile(rb"[\x80-\xbf]*")
_SURROGATES = re.compile("[\udc80-\udcff]")
# One character, then 4+ stray continuation bytes: no UTF-8 text looks
# like that, a frame with a damaged FRAME_START does.
_DAMAGED_START = re.compile("[^\udc80-\udcff](?=[\udc80-\udcbf]{4})")


class Counters:
    """What the stream cost: every frame and stray byte is counted once."""

    FIELDS = ("frames_ok", "frames_lost", "frames_corrupt", "frames_duplicated", "frame_bytes",
              "garbage_bytes", "records", "text_lines", "records_dropped", "seq_resets")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.corrupt_reasons = {}

    def corrupt(self, reason):
        self.frames_corrupt += 1
        self.corrupt_reasons[reason] = self.corrupt_reasons.get(reason, 0) + 1

    def as_dict(self):
        d = {f: getattr(self, f) for f in self.FIELDS}
        d["corrupt_reasons"] = dict(self.corrupt_reasons)
        return d


class Splitter:
    """Feed it chunks; get back ("text", line) and ("frame", seq, records) items.

    Frames come out CRC-checked with their records bytes (see frame.py);
    text comes out as complete lines without the line ending. Call
    flush_text() for a pending partial line (a prompt), finish() at the end.
    """

    def __init__(self, counters=None):
        self.counters = counters if counters is not None else Counters()
        self._buf = bytearray()
        self._utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._partial = ""

    # -- text -------------------------------------------------------------
    def _text(self, seg, out, final):
        s = self._utf8.decode(bytes(seg), final)
        if not s:
            return
        if "\n" not in s:
            self._partial += s
            return
        lines = s.split("\n")
        lines[0] = self._partial + lines[0]
        self._partial = lines.pop()
        self.counters.text_lines += len(lines)
        for line in lines:
            line = self._clean(line)
            out.append(("text", line[:-1] if line.endswith("\r") else line))

    def _clean(self, line):
        """Drop what is not text from a complete line (chunk-independent).

        A run of 4+ stray continuation bytes is the body of a frame whose
        FRAME_START was damaged (a bit flip turns 0x1E into '^', '>', 0x1C,
        0x1F...); the character just before such a run is that damaged
        start byte, so it goes too. Other stray bytes go alone.
        """
        line, n = _DAMAGED_START.subn("", line)
        if n:
            self.counters.garbage_bytes += n  # the damaged start bytes
        line, bad = _SURROGATES.subn("", line)
        self.counters.garbage_bytes += bad
        return line

    def flush_text(self):
        """The pending partial line as an item list ([] if none)."""
        out = []
        self._text(b"", out, True)
        line = self._clean(self._partial) if self._partial else ""
        self._partial = ""
        if line:
            out.append(("text", line))
            self.counters.text_lines += 1
        return out

    # -- frames -----------------------------------------------------------
    def _frame(self, buf, i, out, final):
        """Split the frame starting at buf[i]; return where text resumes, -1 to wait."""
        n = len(buf)
        end = _RUN.match(buf, i + 1).end()
        got = end - i - 1
        c = self.counters
        if got < 8:
            if end == n and not final:
                return -1
            if got == 0:
                # The first byte after FRAME_START may be the damaged one: if
                # encoded bytes follow it, this is a damaged frame, not text.
                if i + 2 >= n and not final:
                    return -1
                if i + 2 < n and buf[i + 1] != abi.FRAME_START and 0x80 <= buf[i + 2] <= 0xBF:
                    end = _RUN.match(buf, i + 2).end()
                    c.garbage_bytes += end - i - 1
                    c.corrupt("damaged")
                    return end
                c.garbage_bytes += 1  # a lone 0x1E is not a frame
            else:
                c.corrupt("length")
            return end
        try:
            rlen = fr.header_records_len(bytes(buf[i + 1:i + 9]))
        except fr.FrameError as err:
            c.corrupt(str(err))
            return end
        want = fr.encoded_len(rlen)
        if got >= want:
            c.garbage_bytes += got - want
            self._decode(bytes(buf[i + 1:i + 1 + want]), out)
            return end
        # Cut short: wait for more bytes, or apply the damage rule.
        pos = end
        while True:
            if pos == n:
                if final:
                    break
                return -1
            x = buf[pos]
            if x == abi.FRAME_START:
                break
            if pos + 1 == n and not final:
                return -1
            nxt = buf[pos + 1] if pos + 1 < n else 0
            if 0x80 <= nxt <= 0xBF or (pos - i == want and x != 0x0A):
                pos = _RUN.match(buf, pos + 1).end()
                if pos - i - 1 >= want:
                    c.garbage_bytes += pos - i - 1 - want
                    c.corrupt("damaged")
                    return pos
                continue
            break
        c.corrupt("length")
        return pos

    def _decode(self, enc, out):
        try:
            seq, recs = fr.decode_body(enc)
        except fr.FrameError as err:
            self.counters.corrupt(str(err))
            return
        self.counters.frame_bytes += 1 + len(enc)  # FRAME_START and the encoded body
        out.append(("frame", seq, recs))

    # -- driving ----------------------------------------------------------
    def feed(self, data, final=False):
        """Split `data` (appended to what is pending); return the items found."""
        out = []
        buf = self._buf
        buf += data
        n = len(buf)
        pos = 0
        while pos < n:
            i = buf.find(_START, pos)
            if i < 0:
                self._text(buf[pos:], out, final)
                pos = n
                break
            self._text(buf[pos:i], out, True)  # a character cut by a frame is garbage
            nxt = self._frame(buf, i, out, final)
            if nxt < 0:
                pos = i
                break
            pos = nxt
        del buf[:pos]
        return out

    def finish(self):
        """End of stream: settle what is pending; return the last items."""
        out = self.feed(b"", final=True)
        return out + self.flush_text()
