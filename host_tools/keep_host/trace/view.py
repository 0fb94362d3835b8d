"""How the monitor shows things: plain lines, JSON lines, and the rich live view."""

import json

from rich.console import Group
from rich.table import Table
from rich.text import Text as RText

from .events import default_name


def _peer(board, slot):
    t = board.tasks.get(slot) if board else None
    return t.name if t else default_name(slot)


def describe(ev, board=None):
    """One short human phrase for an event ("send -> gpio op 3, 4 B")."""
    f = ev.fields
    k = ev.kind
    if k in ("send", "recv"):
        arrow = "->" if k == "send" else "<-"
        return f"{k} {arrow} {_peer(board, f['peer'])} op {f['op']}, {f['length']} B"
    if k == "reply":
        return f"reply -> {_peer(board, f['peer'])} {f['rc_name']}, {f['length']} B"
    if k in ("notify", "deadlock", "denied"):
        extra = f" bits {f['bits']:#x}" if k == "notify" else ""
        return f"{k} {_peer(board, f['peer'])}{extra}"
    if k == "log":
        return f"log: {f['text']}" + (" [truncated]" if f.get("truncated") else "")
    if k == "fault":
        return f"fault {f['fault']} (was {f['prior_state']}, detail {f['detail']:#x})"
    skip = {"ticks_us"}
    rest = " ".join(f"{a}={b}" for a, b in f.items() if a not in skip)
    return f"{k} {rest}".strip()


def plain_line(item, board=None):
    if item.type == "text":
        return item.text
    t = "-" if item.t_us is None else f"{item.t_us}"
    return f"[{t:>12} us] {item.task:<12} {describe(item, board)}"


def json_line(item):
    return json.dumps(item.as_dict(), ensure_ascii=False)


def counters_line(c):
    return (f"frames ok {c.frames_ok}  lost {c.frames_lost}  corrupt {c.frames_corrupt}  "
            f"duplicated {c.frames_duplicated}  garbage bytes {c.garbage_bytes}  "
            f"records dropped on board {c.records_dropped}")


def render(board, rows=8, title="keep monitor"):
    """The live view: task table, recent IPC, incidents, log lines, counters."""
    tasks = Table(title=title, expand=True, title_justify="left")
    for col in ("slot", "task", "state", "prio", "gen", "restarts", "faults", "max slice µs",
                "budget overruns", "run µs"):
        tasks.add_column(col, no_wrap=True)
    for slot in sorted(board.tasks):
        t = board.tasks[slot]
        state = t.state + (f" ({_peer(board, t.peer)})" if t.peer is not None else "")
        style = "red" if t.state == "faulted" else "yellow" if t.state == "held" else ""
        faults = ", ".join(f"{k} {v}" for k, v in t.faults.items()) or "-"
        over = ", ".join(f"{k} {v}" for k, v in t.budget_overruns.items()) or "-"
        tasks.add_row(str(slot), t.name, RText(state, style=style),
                      "-" if t.priority is None else str(t.priority), str(t.generation),
                      str(t.restarts), faults, str(t.max_slice_us), over, str(t.run_us),
                      )
    ipc = Table(title="recent IPC", expand=True, title_justify="left", show_header=False)
    ipc.add_column("t", no_wrap=True, width=12)
    ipc.add_column("what")
    for ev in list(board.ipc)[-rows:]:
        ipc.add_row(f"{ev.t_us}", f"{ev.task}: {describe(ev, board)}")
    inc = Table(title="faults and restarts", expand=True, title_justify="left",
                show_header=False)
    inc.add_column("t", no_wrap=True, width=12)
    inc.add_column("what", style="red")
    for ev in list(board.incidents)[-rows:]:
        inc.add_row(f"{ev.t_us}", f"{ev.task}: {describe(ev, board)}")
    logs = Table(title="log", expand=True, title_justify="left", show_header=False)
    logs.add_column("source", no_wrap=True, width=12)
    logs.add_column("text")
    for _, src, text in list(board.logs)[-rows:]:
        logs.add_row(src, RText(text))
    heap = "" if board.heap_bytes is None else f"   heap {board.heap_bytes} B (max {board.heap_max})"
    foot = RText(counters_line(board.counters) + heap if board.counters else heap, style="dim")
    return Group(tasks, ipc, inc, logs, foot)
