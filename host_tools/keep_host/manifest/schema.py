"""Manifest schema: TOML tables -> model.App, with a problem per bad key.

Only shape is judged here - known keys, types, ranges, names. Whether the
app fits its board (pins, MPU, heap) and whether its send graph is sound is
rules.py's job, so each problem is reported once, by the module that knows.
"""

import math
import re

from ..tomldata import join
from .model import (DISPOSITIONS, PRIORITY_LEAST, PRIORITY_MOST, RESERVED, App, Region,
                    Supervisor, Task)

NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,15}$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME_RULE = "lower-case letters, digits and _, at most 16, not starting with a digit"

TOP_KEYS = ("name", "board", "kernel", "supervisor", "tasks")
KERNEL_KEYS = {"max_msg": (1, 4096), "trace_records": (8, 65535)}
SUPERVISOR_KEYS = {"flap_restarts": (1, 255), "flap_window_ms": (1, 3_600_000),
                   "backoff_ms": (0, 600_000), "backoff_max_ms": (0, 600_000),
                   "heartbeat_ms": (0, 3_600_000)}
TASK_KEYS = ("entry", "priority", "disposition", "server", "driver", "regions", "budget",
             "owns", "grants", "notify", "args")
OWNS_KEYS = ("pins", "uart", "spi", "i2c")
ARG_INT = (-(1 << 31), (1 << 31) - 1)  # small enough for every port's int
MAX_BADGE = 0xFFFF


def read_name(r, data):
    name = r.str_(data, "name", "")
    if name is not None and not NAME_RE.match(name):
        r.add("name", f'"{name}" is not a valid name ({NAME_RULE})')
    return name


def read_app(r, data, board_name, board):
    """Build the App from parsed TOML; problems go to Reader `r`.

    `board` gives the defaults for [kernel] and budgets (None if unknown).
    """
    r.known(data, TOP_KEYS, "")
    name = read_name(r, data)
    kern = r.table(data, "kernel", "", default={}) or {}
    r.known(kern, KERNEL_KEYS, "kernel")
    dflt = {"max_msg": board.max_msg if board else 64,
            "trace_records": board.trace_records if board else 256}
    k = {key: r.int_(kern, key, "kernel", lo, hi, default=dflt[key])
         for key, (lo, hi) in KERNEL_KEYS.items()}

    sup = r.table(data, "supervisor", "", default={}) or {}
    r.known(sup, SUPERVISOR_KEYS, "supervisor")
    base = Supervisor()
    s = {key: r.int_(sup, key, "supervisor", lo, hi, default=getattr(base, key))
         for key, (lo, hi) in SUPERVISOR_KEYS.items()}
    if None not in (s["backoff_ms"], s["backoff_max_ms"]) and s["backoff_max_ms"] < s["backoff_ms"]:
        r.add("supervisor.backoff_max_ms",
              f"{s['backoff_max_ms']} is less than backoff_ms ({s['backoff_ms']})")
    supervisor = Supervisor(**{key: (v if v is not None else getattr(base, key))
                               for key, v in s.items()})

    tasks_t = r.table(data, "tasks", "")
    if tasks_t is not None and not tasks_t:
        r.add("tasks", "no tasks: an app needs at least one [tasks.NAME] table")
    tasks = []
    for tname, t in (tasks_t or {}).items():
        task = read_task(r, tname, t, len(tasks) + 1, board)
        if task is not None:
            tasks.append(task)
    return App(name=name or "", board=board_name or "", max_msg=k["max_msg"] or 0,
               trace_records=k["trace_records"] or 0, supervisor=supervisor, tasks=tasks)


def read_task(r, tname, t, slot, board):
    path = f"tasks.{tname}"
    if not NAME_RE.match(tname):
        r.add(path, f'"{tname}" is not a valid task name ({NAME_RULE})')
    elif tname in RESERVED:
        r.add(path, f'"{tname}" is reserved: {RESERVED[tname]}')
    if not isinstance(t, dict):
        r.add(path, f"must be a table ([{path}])")
        return None
    r.known(t, TASK_KEYS, path)
    module = function = None
    entry = r.str_(t, "entry", path)
    if entry is not None:
        mod, sep, fn = entry.partition(":")
        if not sep or not MODULE_RE.match(mod) or not IDENT_RE.match(fn):
            r.add(join(path, "entry"), f'"{entry}" must look like "package.module:function"')
        else:
            module, function = mod, fn
    prio = r.int_(t, "priority", path, PRIORITY_MOST, PRIORITY_LEAST)
    disp = r.str_(t, "disposition", path, default="restart", choices=tuple(DISPOSITIONS))
    server = r.bool_(t, "server", path, default=False)
    driver = r.bool_(t, "driver", path, default=False)

    regions = []
    for rname, spec in (r.table(t, "regions", path, default={}) or {}).items():
        rpath = f"{path}.regions.{rname}"
        if not IDENT_RE.match(rname):
            r.add(rpath, f'"{rname}" is not a valid region name')
        if not isinstance(spec, dict):
            r.add(rpath, 'must be a table like { size = 256, access = "rw" }')
            continue
        r.known(spec, ("size", "access"), rpath)
        size = r.int_(spec, "size", rpath, 1, 1 << 24)
        access = r.str_(spec, "access", rpath, default="rw", choices=("r", "rw"))
        if size is not None and access is not None:
            regions.append(Region(rname, size, access == "rw"))

    budget = r.table(t, "budget", path, default={}) or {}
    r.known(budget, ("heap_bytes", "slice_ms"), f"{path}.budget")
    heap_budget = r.int_(budget, "heap_bytes", f"{path}.budget", 0, 1 << 24,
                         default=board.heap_budget_bytes if board else 0)
    slice_ms = r.int_(budget, "slice_ms", f"{path}.budget", 0, 60_000,
                      default=board.slice_budget_ms if board else 0)

    owns = read_owns(r, r.table(t, "owns", path, default={}) or {}, f"{path}.owns")

    grants = {}
    for peer, badge in (r.table(t, "grants", path, default={}) or {}).items():
        gkey = f"{path}.grants.{peer}"
        if isinstance(badge, bool) or not isinstance(badge, int):
            r.add(gkey, f"the badge must be an integer 0..{MAX_BADGE}, not {badge!r}")
        elif not 0 <= badge <= MAX_BADGE:
            r.add(gkey, f"badge {badge} is out of range 0..{MAX_BADGE}")
        else:
            grants[peer] = badge

    notify = []
    for peer in r.array(t, "notify", path, default=[]) or []:
        if not isinstance(peer, str):
            r.add(f"{path}.notify", f"must list task names, not {peer!r}")
        elif peer not in notify:
            notify.append(peer)

    args = r.table(t, "args", path, default={})
    args = literal(r, args, f"{path}.args") if args else {}

    # A field that failed to read stays None (its problem is already
    # recorded); the task is kept so the rules still judge its other keys.
    return Task(name=tname, slot=slot, module=module, function=function, priority=prio,
                disposition=disp, server=server, driver=driver, regions=regions, heap_budget=heap_budget,
                slice_ms=slice_ms, owns=owns, grants=grants, notify=notify, args=args or {})


def read_owns(r, owns, path):
    r.known(owns, OWNS_KEYS, path)
    out = {k: [] for k in OWNS_KEYS}
    for key in ("pins", "uart", "i2c"):
        for i, v in enumerate(r.array(owns, key, path, default=[]) or []):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255:
                r.add(f"{path}.{key}[{i}]", f"must be an integer 0..255, not {v!r}")
            else:
                out[key].append(v)
    for i, v in enumerate(r.array(owns, "spi", path, default=[]) or []):
        key = f"{path}.spi[{i}]"
        if not isinstance(v, dict):
            r.add(key, f"must be a table like {{ bus = 1, cs = 5 }}, not {v!r}")
            continue
        r.known(v, ("bus", "cs"), key)
        bus, cs = r.int_(v, "bus", key, 0, 15), r.int_(v, "cs", key, 0, 255)
        if bus is not None and cs is not None:
            out["spi"].append((bus, cs))
    return out


def literal(r, v, path):
    """A TOML value -> the plain literal the device table can hold, or None.

    Arrays become tuples (immutable, and cheaper on the device); floats must
    be finite (repr(inf) is not a literal); ints must fit 32 bits.
    """
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        if not ARG_INT[0] <= v <= ARG_INT[1]:
            r.add(path, f"{v} does not fit in 32 bits")
            return None
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            r.add(path, f"{v} is not a finite number")
            return None
        return v
    if isinstance(v, list):
        return tuple(literal(r, x, f"{path}[{i}]") for i, x in enumerate(v))
    if isinstance(v, dict):
        return {k: literal(r, x, join(path, k)) for k, x in v.items()}
    r.add(path, "dates and times are not supported in args")
    return None
