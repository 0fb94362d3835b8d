"""CSV, one row per event: common columns, then every named field of every kind.

`t_us` is the exports' one time base (timebase.py: µs since the recording's
first timed event, as in the Perfetto and VCD exports); `board_t_us` is the
board's own clock, unwrapped, as `keep monitor` shows it.
"""

import csv

from . import timebase
from .events import FIELDS

COMMON = ["seq", "t_us", "board_t_us", "kind", "slot", "task"]


def _field_columns():
    cols = []
    for fn in FIELDS.values():
        for k in fn(0, 0):
            if k not in cols:
                cols.append(k)
    return cols + ["truncated"]


COLUMNS = COMMON + _field_columns()


def write(items, fp, names=None):
    out = csv.DictWriter(fp, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    t0 = timebase.origin(items)
    n = 0
    for e in items:
        if e.type == "event":
            d = e.as_dict()
            d["board_t_us"] = e.t_us
            d["t_us"] = timebase.since(e.t_us, t0)
            if names and e.slot in names:
                d["task"] = names[e.slot]
            out.writerow(d)
            n += 1
    return n
