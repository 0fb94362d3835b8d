"""CSV, one row per event: common columns, then every named field of every kind."""

import csv

from .events import FIELDS

COMMON = ["seq", "t_us", "kind", "slot", "task"]


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
    n = 0
    for e in items:
        if e.type == "event":
            d = e.as_dict()
            if names and e.slot in names:
                d["task"] = names[e.slot]
            out.writerow(d)
            n += 1
    return n
