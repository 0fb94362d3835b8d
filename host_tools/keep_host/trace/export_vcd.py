"""VCD (value change dump) of GPIO levels from TR_PIN records.

Each pin is a 1-bit wire `pinN`; time is the record's own ticks_ms
(unwrapped at 2**29, where the record's time field wraps; counted from the
first pin record), timescale 1 ms.
Opens in GTKWave, PulseView, Surfer.
"""

from .. import __version__

# TR_PIN keeps ticks_ms mod 2**29 (abi.py): level | t << 1 then stays a
# small int on a 32-bit board.
TICKS_PERIOD = 1 << 29


def _ident(n):
    """VCD identifier codes: printable ASCII 33..126, little-endian base 94."""
    s = ""
    while True:
        s += chr(33 + n % 94)
        n //= 94
        if not n:
            return s


def changes(items, ticks_period=TICKS_PERIOD):
    """[(t_ms, pin, level)] from pin events, time unwrapped and sorted."""
    out = []
    t = raw_last = None
    for e in items:
        if e.type != "event":
            continue
        if e.kind == "boot":
            raw_last = None  # a new board clock; keep our timeline monotonic
        if e.kind != "pin":
            continue
        raw = e["ticks_ms"] % ticks_period
        if t is None:
            t = 0
        elif raw_last is None:
            t += 1
        else:
            t += (raw - raw_last) % ticks_period
        raw_last = raw
        out.append((t, e["pin"], e["level"]))
    out.sort(key=lambda c: c[0])
    return out


def write(items, fp, names=None):
    ch = changes(items)
    pins = sorted({p for _, p, _ in ch})
    ids = {p: _ident(i) for i, p in enumerate(pins)}
    w = fp.write
    w(f"$version keep {__version__} trace export $end\n")
    w("$comment GPIO levels from TR_PIN records $end\n")
    w("$timescale 1 ms $end\n$scope module board $end\n")
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
