"""VCD (value change dump) of GPIO levels from TR_PIN records.

Each pin is a 1-bit wire `pinN`. Time is the exports' one time base
(timebase.py: µs since the recording's first timed event, timescale 1 us):
a pin record is stamped, like every record, with the start of the slice it
was written in, so an edge is at the same µs here as in the Perfetto and
CSV exports. Opens in GTKWave, PulseView, Surfer.
"""

from .. import __version__
from . import timebase


def _ident(n):
    """VCD identifier codes: printable ASCII 33..126, little-endian base 94."""
    s = ""
    while True:
        s += chr(33 + n % 94)
        n //= 94
        if not n:
            return s


def changes(items):
    """[(t_us, pin, level)] from pin events, on the exports' time base."""
    t0 = timebase.origin(items)
    return [(timebase.since(e.t_us, t0), e["pin"], e["level"])
            for e in items if e.type == "event" and e.kind == "pin"]


def write(items, fp, names=None):
    ch = changes(items)
    pins = sorted({p for _, p, _ in ch})
    ids = {p: _ident(i) for i, p in enumerate(pins)}
    w = fp.write
    w(f"$version keep {__version__} trace export $end\n")
    w("$comment GPIO levels from TR_PIN records; time 0 is board time "
      f"{timebase.origin(items)} us $end\n")
    w("$timescale 1 us $end\n$scope module board $end\n")
    for p in pins:
        w(f"$var wire 1 {ids[p]} pin{p} $end\n")
    w("$upscope $end\n$enddefinitions $end\n")
    w("#0\n$dumpvars\n")
    for p in pins:
        w(f"x{ids[p]}\n")
    w("$end\n")
    level = {}
    now = 0
    for t, p, v in ch:
        if level.get(p) == v:
            continue
        if t != now:
            w(f"#{t}\n")
            now = t
        w(f"{v}{ids[p]}\n")
        level[p] = v
    return len(pins)
