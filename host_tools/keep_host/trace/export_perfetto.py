"""Perfetto / Chrome trace-event JSON from decoded trace events.

One process ("board"), one thread track per task slot, named from the
board's NAME records (or --names). A task's slice runs from its SWITCH to
the next SWITCH and is named "chaos (gen 0)". IPC are flow arrows: send ->
the server's slice that received it, reply -> the client's next slice.
Faults, restarts and other incidents are instant events; heap use and pin
levels are counter tracks. Times are µs since the recording's first timed
event (timebase.py), the same in every export. Opens in ui.perfetto.dev and
chrome://tracing.

How the arrows land. Perfetto's JSON importer binds a flow event to the
slice on top of its thread track's stack when it processes the event, in
timestamp order, 'X' before the rest at equal times; a finished slice
stays on top until the next slice starts on that track
(tests/host/perfetto_import.py models it from Perfetto's source). So each
end of an arrow is bound here to one slice of the right task, and its flow
event is written at that slice's start, after the slice and before the
slice's instants (which are slices too):

- the start goes to the sender's running slice (the slice the record was
  written in; if the task was not running - the kernel answered for a dead
  server - its last slice);
- the end goes to the receiver's running slice if it was running, else to
  its next slice, where it will run with the message: a server that was
  waiting in recv takes a message at the sender's moment (the decoder's
  "delivered" recv) and handles it when it next runs; a client runs with
  its reply in its next slice.

A send is matched with the recv of the same client: IPC is synchronous, so a
client has at most one send outstanding, and a send that a new one replaces
was never received (refused: dead server, too big; or timed out). Those get
a "send not received" marker instead of an arrow. An arrow with an end
outside the recording is left out.
"""

import json
from collections import defaultdict

from . import timebase
from .events import default_name

PID = 1
INSTANT_KINDS = {"fault", "restart", "memfault", "budget", "deadlock", "denied", "hold",
                 "timeout", "dropped", "boot", "log"}
# Written in this order at equal times (Perfetto: slices first, then the rest
# in file order): a slice, then its arrows, then its markers.
RANK_SLICE, RANK_FLOW, RANK_MARK = 0, 1, 2


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


class _Slice:
    """A task's run from its switch-in to the next switch."""

    __slots__ = ("slot", "gen", "start", "end")

    def __init__(self, slot, gen, start):
        self.slot, self.gen, self.start, self.end = slot, gen, start, start


class _Flow:
    """One arrow: its label and the slices its two ends are bound to."""

    __slots__ = ("id", "name", "args", "src", "dst")

    def __init__(self, fid, name, args, src):
        self.id, self.name, self.args, self.src = fid, name, args, src
        self.dst = None


class Timeline:
    """Slices, arrows and markers of a decoded trace (what build() writes).

    flows: every arrow that has both ends; open: arrows with an end outside
    the recording (or across a board reset); unreceived: send events that
    another send of the same client replaced before a recv (no arrow).
    """

    def __init__(self, items, names=None):
        user = {int(k): v for k, v in (names or {}).items()}
        evs = [i for i in items if i.type == "event"]
        self.t0 = timebase.origin(evs)
        self.slices = []
        self.flows = []
        self.open = []
        self.unreceived = []
        self.marks = []  # (ts, slot or None for the process, event)
        self.counters = []  # (ts, name, args)
        self.names = {}  # slot -> the latest name the board (or the user) gave
        self._user = user
        self._running = None
        self._last = {}  # slot -> its latest slice
        self._landing = defaultdict(list)  # slot -> flows ending in its next slice
        self._asked = {}  # client slot -> (flow, server slot, send event) until received
        self._gen = {}
        self._ids = 0
        self._now = 0
        for e in evs:
            self._event(e)
        self._close(self._now)
        self._drop_pending()

    # -- helpers ----------------------------------------------------------
    def _source(self, slot):
        """The slice a record of `slot` was written in (or its last one)."""
        r = self._running
        return r if r is not None and r.slot == slot else self._last.get(slot)

    def _land(self, flow, slot):
        """Bind the flow's end: `slot`'s running slice, or its next one."""
        r = self._running
        if r is not None and r.slot == slot:
            flow.dst = r
            self.flows.append(flow)
        else:
            self._landing[slot].append(flow)

    def _flow(self, name, e, label):
        """A new arrow from the slice of e's task, or None (and counted open)
        when that task has not run since the recording began."""
        self._ids += 1
        flow = _Flow(self._ids, name, {"peer": e["peer"], "length": e["length"], "what": label},
                     self._source(e.slot))
        if flow.src is None:
            self.open.append(flow)  # its start fell before the recording
            return None
        return flow

    def _drop_pending(self):
        """The recording (or the board, at a reset) ended: arrows still
        waiting for their end stay open."""
        self.open += [f for flows in self._landing.values() for f in flows]
        self.open += [flow for flow, _, _ in self._asked.values()]
        self._landing.clear()
        self._asked.clear()

    # -- per event --------------------------------------------------------
    def _event(self, e):
        ts = timebase.since(e.t_us, self.t0)
        self._now = ts
        s = e.slot
        self.names[s] = self._user.get(s) or e.task or default_name(s)
        k = e.kind
        if k == "boot":
            # A new board: nothing pending crosses a reset.
            self._close(ts)
            self._gen.clear()
            self._drop_pending()
        elif k == "switch":
            r = self._running
            if r is not None and r.slot == s and r.start == ts:
                return  # switched to the task it already ran, in the same µs: one slice
            self._close(ts)
            r = self._running = _Slice(s, self._gen.get(s, 0), ts)
            self.slices.append(r)
            self._last[s] = r
            for flow in self._landing.pop(s, ()):
                flow.dst = r
                self.flows.append(flow)
        elif k in ("state", "restart"):
            self._gen[s] = e["generation"]
        elif k == "send":
            old = self._asked.pop(s, None)
            if old:
                self.unreceived.append(old[2])
            flow = self._flow("send", e, f"op {e['op']}")
            if flow:
                self._asked[s] = (flow, e["peer"], e)
        elif k == "recv":
            asked = self._asked.get(e["peer"])
            if asked and asked[1] == s:
                del self._asked[e["peer"]]
                self._land(asked[0], s)
        elif k == "reply":
            flow = self._flow("reply", e, f"rc {e['rc_name']}")
            if flow:
                self._land(flow, e["peer"])
        elif k == "heap":
            self.counters.append((ts, "heap", {"bytes": e["bytes"]}))
        elif k == "pin":
            self.counters.append((ts, f"pin {e['pin']}", {"level": e["level"]}))
        if k in INSTANT_KINDS:
            self.marks.append((ts, None if k == "boot" else s, e))

    def _close(self, now):
        if self._running is not None:
            self._running.end = max(self._running.start, now)
            self._running = None


def build(items, names=None):
    """The trace-event dict ({"traceEvents": [...]}) for decoded items."""
    tl = Timeline(items, names)
    out = []  # ((ts, rank, -dur), event): Perfetto's processing order, made explicit

    def add(ts, rank, ev, dur=0):
        out.append(((ts, rank, -dur, len(out)), ev))

    for sl in tl.slices:
        dur = sl.end - sl.start
        add(sl.start, RANK_SLICE, {"name": f"{tl.names.get(sl.slot) or default_name(sl.slot)} "
                                           f"(gen {sl.gen})",
                                   "cat": "task", "ph": "X", "ts": sl.start, "dur": dur,
                                   "pid": PID, "tid": sl.slot, "args": {"generation": sl.gen}},
            dur)
    for f in tl.flows:
        add(f.src.start, RANK_FLOW, {"name": f.name, "cat": "ipc", "ph": "s", "id": f.id,
                                     "ts": f.src.start, "pid": PID, "tid": f.src.slot,
                                     "args": f.args})
        add(f.dst.start, RANK_FLOW, {"name": f.name, "cat": "ipc", "ph": "f", "bp": "e",
                                     "id": f.id, "ts": f.dst.start, "pid": PID,
                                     "tid": f.dst.slot})
    for ts, slot, e in tl.marks:
        ev = {"name": _instant_name(e), "cat": e.kind, "ph": "i", "ts": ts, "pid": PID,
              "s": "p" if slot is None else "t", "args": dict(e.fields)}
        if slot is not None:
            ev["tid"] = slot
        add(ts, RANK_MARK, ev)
    for e in tl.unreceived:
        ts = timebase.since(e.t_us, tl.t0)
        add(ts, RANK_MARK, {"name": "send not received", "cat": "ipc", "ph": "i", "s": "t",
                            "ts": ts, "pid": PID, "tid": e.slot,
                            "args": {"peer": e["peer"], "op": e["op"], "length": e["length"]}})
    for ts, name, args in tl.counters:
        add(ts, RANK_MARK, {"name": name, "ph": "C", "ts": ts, "pid": PID, "args": args})
    out.sort(key=lambda p: p[0])
    meta = [{"name": "process_name", "ph": "M", "pid": PID, "args": {"name": "board"}}]
    for slot, name in sorted(tl.names.items()):
        meta.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": slot,
                     "args": {"name": f"{name} [{slot}]"}})
        meta.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": slot,
                     "args": {"sort_index": slot}})
    return {"traceEvents": meta + [ev for _, ev in out], "displayTimeUnit": "ms",
            "otherData": {"time_base": "us since the recording's first timed event",
                          "board_us_at_0": tl.t0}}


def write(items, fp, names=None):
    json.dump(build(items, names), fp, separators=(",", ":"))
