"""The device table: a checked App written as a MicroPython module.

The device never parses TOML; it imports `app_table.py` (or its .mpy), a
module of plain literals - ints, bools, floats, ASCII strings with escapes,
tuples and dicts - and one row type, so importing it needs no parser beyond
the compiler's. Each task row is a `Task`, a namedtuple from `collections`
(MicroPython has it): read by name (`row.module`), it still is the tuple
below field for field, and costs no more heap than one (a 12-field row
128 bytes either way on the unix port; the type itself 224 bytes once).
Layout, TABLE_VERSION 2 (docs/manifest.md has the same):

    TABLE_VERSION = 2              # bumped when a field changes meaning or place
    ABI_VERSION = 1                # keep/abi.py ABI_VERSION the table was made for
    APP = "chaos"                  # app name
    BOARD = "unix"                 # board name (boards/<name>.toml)
    HAL = "sim"                    # hal module: "esp32" | "rp2" | "sim"
    MAX_MSG = 64                   # message body limit, bytes
    TRACE_RECORDS = 256            # trace ring size, 8-byte records
    MPU = (regions, min_size, pow2, align)   # the board's MPU rules; align an int or "size"
    WDT_MS = 0                     # board [boot] watchdog_ms: hardware watchdog, 0 = off
    SAFEBOOT_PIN = None            # board [boot] safeboot_pin: low at reset skips the kernel
    SUPERVISOR = (flap_restarts, flap_window_ms, backoff_ms, backoff_max_ms, heartbeat_ms)
    Task = namedtuple("Task", FIELDS)
    TASKS = (Task(name=..., ...), ...)   # TASKS[slot]; slot 0 is the supervisor
    # each task's fields, in this order:
    # (name, module, function, priority, disposition, server,
    #  regions, grants, owns, heap_budget, slice_ms, args)
    #   name         str
    #   module       str, importable dotted path ("servers.gpio")
    #   function     str, an `async def` in module
    #   priority     int 0 (most important) .. 7
    #   disposition  int: 0 restart, 1 hold, 2 reboot
    #   server       bool: it receives requests
    #   regions      ((name, size_bytes, writable), ...) in manifest order
    #   grants       ((peer_slot, badge), ...) sorted by slot; badge -1: the
    #                task may notify that peer, not send to it (its `notify`)
    #   owns         None if the task owns no hardware, else a dict of the
    #                non-empty ones among "pins": (n, ...), "uart": (id, ...),
    #                "spi": ((bus, cs), ...), "i2c": (id, ...)
    #   heap_budget  int bytes allocated per slice, 0 = unchecked
    #   slice_ms     int longest run between yields, 0 = unchecked
    #   args         dict passed to the task at start ({} if none)
    DISPOSITIONS = ("restart", "hold", "reboot")   # names of the codes above

The monolithic build (render(..., monolithic=True), `keep deploy
--monolithic`, docs/tradeoff.md) writes the same layout plus
MONOLITHIC = True; its drivers (servers that own hardware or say
`driver = true`) are not in TASKS: slot 0 is clients.direct:system, whose
args hold them as {"drivers": {name: (module, function, args, owns,
{caller_slot: badge})}}, and the other tasks follow in manifest order,
their grants to drivers moved into those badge maps. Every task's
disposition is "reboot" (in a monolithic build a fault is the system's)
and its heap and slice budgets 0 (nothing meters a task there).

Invariant: render() output is deterministic for a given App and board, so a
deploy can skip an unchanged table by hash.
"""

from dataclasses import replace

from .model import DISPOSITIONS, SUPERVISOR, SUPERVISOR_ENTRY

# 2: owns is None or only its non-empty keys (was: all four keys, always).
TABLE_VERSION = 2
FIELDS = ("name", "module", "function", "priority", "disposition", "server",
          "regions", "grants", "owns", "heap_budget", "slice_ms", "args")


def abi_version():
    """ABI_VERSION from firmware/keep/abi.py (read as text: it is MicroPython)."""
    import re

    from ..paths import FIRMWARE

    try:
        text = (FIRMWARE / "keep" / "abi.py").read_text()
    except OSError:
        return 0
    m = re.search(r"^ABI_VERSION\s*=\s*const\((\d+)\)", text, re.M)
    return int(m.group(1)) if m else 0


def lit(v):
    """Python source for a plain value, ASCII only, that MicroPython parses."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return ascii(v)
    if isinstance(v, tuple | list):
        inner = ", ".join(lit(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"not a table literal: {v!r}")


def task_tuple(t, slots):
    regions = tuple((r.name, r.size, r.writable) for r in t.regions)
    # A send grant lets the task notify the peer too; a peer it may only
    # notify gets badge -1 (keep/caps.py, keep/notify.py).
    grants = tuple(sorted([(slots[p], b) for p, b in t.grants.items()]
                          + [(slots[p], -1) for p in t.notify
                             if p not in t.grants and p != t.name]))
    # Only the non-empty lists, None for none: the device builds each dict
    # literal in its heap (~100 bytes for four keys), and the servers read
    # their own key with .get(key, ()).
    owns = {k: tuple(tuple(x) if k == "spi" else x for x in t.owns[k])
            for k in ("pins", "uart", "spi", "i2c") if t.owns[k]} or None
    return (t.name, t.module, t.function, t.priority, DISPOSITIONS[t.disposition], t.server,
            regions, grants, owns, t.heap_budget, t.slice_ms, t.args)


def task_row(row):
    """Python source for one row: a Task built with its fields named."""
    return "Task(" + ", ".join(f"{f}={lit(v)}" for f, v in zip(FIELDS, row, strict=True)) + ")"


def supervisor_tuple():
    mod, fn = SUPERVISOR_ENTRY
    return (SUPERVISOR, mod, fn, 0, DISPOSITIONS["reboot"], False, (), (), None, 0, 0, {})


def mpu_tuple(board):
    """The board's [mpu] as keep.mem.rules_from reads it."""
    m = board.mpu
    return (m.regions, m.min_size, bool(m.pow2), m.align)


def _shown(source):
    """The manifest's path relative to the project (stable across machines)."""
    from pathlib import Path

    from ..paths import ROOT

    p = Path(source or "app.toml")
    try:
        return p.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return p.name


def is_driver(t):
    """A server the monolithic build calls in its clients' tasks."""
    return t.server and (t.driver or any(t.owns[k] for k in ("pins", "uart", "spi", "i2c")))


def monolithic_rows(app):
    """TASKS for the monolithic build: clients.direct:system in slot 0 with
    the drivers in its args, then the other tasks renumbered."""
    drivers = [t for t in app.tasks if is_driver(t)]
    rest = [t for t in app.tasks if not is_driver(t)]
    slots = {t.name: i + 1 for i, t in enumerate(rest)}
    names = {t.name for t in drivers}
    table = {}
    for d in drivers:
        row = task_tuple(d, slots)
        badges = {slots[t.name]: t.grants[d.name] for t in rest if d.name in t.grants}
        table[d.name] = (d.module, d.function, d.args, row[8], badges)
    reboot = DISPOSITIONS["reboot"]
    rows = [("system", "clients.direct", "system", 0, reboot, False, (), (), None, 0, 0,
             {"drivers": table})]
    for t in rest:
        kept = replace(t, grants={p: b for p, b in t.grants.items() if p not in names},
                       notify=[p for p in t.notify if p not in names])
        row = task_tuple(kept, slots)
        rows.append(row[:4] + (reboot,) + row[5:9] + (0, 0) + row[11:])
    return rows


def render(app, board, source="", monolithic=False):
    """The text of app_table.py for a checked `app` on `board`; monolithic:
    the build without isolation (see the module docstring)."""
    if monolithic:
        rows = monolithic_rows(app)
    else:
        slots = {t.name: t.slot for t in app.tasks}
        rows = [supervisor_tuple()] + [task_tuple(t, slots) for t in app.tasks]
    lines = [
        f'"""Keep device table for app {app.name!s} on board {board.name!s}.',
        "",
        f"Generated by `keep check --table` from {_shown(source)}; do not edit.",
        "Layout: keep_host/manifest/table.py and docs/manifest.md.",
        '"""',
        "",
        "from collections import namedtuple",
        "",
        f"TABLE_VERSION = {TABLE_VERSION}",
        f"ABI_VERSION = {abi_version()}",
        f"APP = {lit(app.name)}",
        f"BOARD = {lit(board.name)}",
        f"HAL = {lit(board.hal)}",
        f"MAX_MSG = {app.max_msg}",
        f"TRACE_RECORDS = {app.trace_records}",
        f"MPU = {lit(mpu_tuple(board))}",
        f"WDT_MS = {board.watchdog_ms}",
        f"SAFEBOOT_PIN = {lit(board.safeboot_pin)}",
        f"SUPERVISOR = {lit(app.supervisor.as_tuple())}",
        f"DISPOSITIONS = {lit(tuple(DISPOSITIONS))}",
    ]
    if monolithic:
        lines.append("MONOLITHIC = True")
    lines.append(f"Task = namedtuple(\"Task\", {lit(FIELDS)})")
    lines.append("TASKS = (")
    for slot, row in enumerate(rows):
        lines.append(f"    # slot {slot}")
        lines.append(f"    {task_row(row)},")
    lines.append(")")
    return "\n".join(lines) + "\n"
