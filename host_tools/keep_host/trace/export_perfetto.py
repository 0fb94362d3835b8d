"""Perfetto / Chrome trace-event JSON from decoded trace events.

One process ("board"), one thread track per task slot. A task's slice runs
from its SWITCH to the next SWITCH. IPC becomes flow arrows: send -> the
receiver's recv, and reply -> the client's next slice. Faults, restarts and
other incidents are instant events; heap use (TR_HEAP) is a counter track.
Timestamps are µs from the first timed event. Opens in ui.perfetto.dev and
chrome://tracing.
"""

import json
from collections import defaultdict, deque

from .events import default_name

PID = 1
INSTANT_KINDS = {"fault", "restart", "memfault", "budget", "deadlock", "denied", "hold",
                 "timeout", "dropped", "boot", "log"}


def _instant_name(e):
    f = e.fields
    k = e.kind
    if k == "fault":
        return f"fault: {f['fault']}"
    if k == "restart":
        return f"restart gen {f['generation']}"
    if k == "log":
        return f"log: {f['text'][:60]}"
    if k == "budget":
        return f"budget: {f['budget']} {f['value']}"
    if k == "hold":
        return "held" if f["held"] else "released"
    return k


def build(items, names=None):
    """The trace-event dict ({"traceEvents": [...]}) for decoded items."""
    names = {int(k): v for k, v in (names or {}).items()}
    evs = [i for i in items if i.type == "event"]
    t0 = next((e.t_us for e in evs if e.t_us is not None), 0)
    out = []
    tasks = {}
    running = None  # (slot, name, start)
    sends = defaultdict(deque)  # (sender, dest) -> flow ids waiting for the recv
    replies = defaultdict(list)  # client slot -> flow ids waiting for its next slice
    flow_id = 0
    last = 0

    def ts_of(e):
        return 0 if e.t_us is None else e.t_us - t0

    def close(now):
        if running:
            slot, name, start = running
            out.append({"name": name, "cat": "task", "ph": "X", "ts": start,
                        "dur": max(0, now - start), "pid": PID, "tid": slot})

    for e in evs:
        ts = ts_of(e)
        last = max(last, ts)
        s = e.slot
        tasks.setdefault(s, names.get(s) or e.task or default_name(s))
        k = e.kind
        base = {"ts": ts, "pid": PID, "tid": s}
        if k == "switch":
            close(ts)
            running = (s, tasks[s], ts)
            for fid in replies.pop(s, ()):
                out.append({"name": "reply", "cat": "ipc", "ph": "f", "bp": "e", "id": fid, **base})
        elif k in ("send", "reply"):
            flow_id += 1
            label = f"op {e['op']}" if k == "send" else f"rc {e['rc_name']}"
            out.append({"name": k, "cat": "ipc", "ph": "s", "id": flow_id,
                        "args": {"peer": e["peer"], "length": e["length"], "what": label}, **base})
            if k == "send":
                sends[(s, e["peer"])].append(flow_id)
            else:
                replies[e["peer"]].append(flow_id)
        elif k == "recv":
            q = sends.get((e["peer"], s))
            if q:
                out.append({"name": "send", "cat": "ipc", "ph": "f", "bp": "e",
                            "id": q.popleft(), **base})
        elif k == "heap":
            out.append({"name": "heap", "ph": "C", "ts": ts, "pid": PID,
                        "args": {"bytes": e["bytes"]}})
        elif k == "pin":
            out.append({"name": f"pin {e['pin']}", "ph": "C", "ts": ts, "pid": PID,
                        "args": {"level": e["level"]}})
        if k in INSTANT_KINDS:
            out.append({"name": _instant_name(e), "cat": k, "ph": "i",
                        "s": "p" if k == "boot" else "t", "args": dict(e.fields), **base})
    close(last)
    meta = [{"name": "process_name", "ph": "M", "pid": PID, "args": {"name": "board"}}]
    for slot, name in sorted(tasks.items()):
        meta.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": slot,
                     "args": {"name": f"{name} [{slot}]"}})
        meta.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": slot,
                     "args": {"sort_index": slot}})
    return {"traceEvents": meta + out, "displayTimeUnit": "ms"}


def write(items, fp, names=None):
    json.dump(build(items, names), fp, separators=(",", ":"))
