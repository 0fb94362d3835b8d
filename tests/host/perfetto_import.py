"""How Perfetto's JSON importer binds flow arrows, in Python, for the tests.

A model of the parts of Perfetto's trace processor (github:google/perfetto,
read at commit ec5d16b14b743ba6063d720956d6d6af6610fd72) that decide which
slice each end of a flow arrow lands on. The UI draws only what the trace
processor put in its `flow` table, so an end that binds to no slice, or to
the wrong one, is an arrow the user never sees or one that lies.

- sorter/trace_sorter.h: events are processed in timestamp order. Once a
  trace has an 'X' event, ties are broken by phase: 'E' first, then 'X'
  (longer first), then everything else in file order.
- importers/common/slice_tracker.cc: each thread track keeps a stack of open
  slices. A complete ('X') slice, and a thread-scoped instant ('i', a slice
  of duration 0), is pushed when processed; entries are popped only when a
  later slice starts on the same track and they have ended by then
  (MaybeCloseStack). So the top of a track's stack can be a slice that ended
  long ago: a flow event there binds to that stale slice.
- importers/json/json_trace_parser.cc + common/flow_tracker.cc:
  's' binds the flow (keyed by id, cat and name) to the top slice of its
  thread's stack (none: stat flow_no_enclosing_slice, the arrow is lost);
  'f' with "bp": "e" binds the same way; 'f' without it waits and binds to
  the next slice that starts on its track; 't' (a step) binds like 's' and
  ends the previous leg. The arrow goes from the earlier of the two slices
  to the later.

check_arrows() applies the model to Keep's export of a decoded trace.

What is not modelled: async ('b'/'e') tracks, v2 flows (bind_id), 'B'/'E'
slices (this exporter writes none), and the sorter's windowed streaming
(a whole file is sorted here, as the UI's importer does for a JSON file).
"""

import math
from dataclasses import dataclass, field

from keep_host.trace import export_perfetto


@dataclass
class Slice:
    index: int  # position in the file
    track: tuple  # (pid, tid)
    ts: float
    dur: float
    name: str
    is_instant: bool

    @property
    def end(self):
        return self.ts + self.dur

    def encloses(self, ts):
        return self.ts <= ts <= self.end


@dataclass
class Result:
    slices: list = field(default_factory=list)
    flows: list = field(default_factory=list)  # (start event, end event, out Slice, in Slice)

    def pairs(self):
        """[(from slice name, to slice name)], as Perfetto's flow table joined with
        its slices (the arrow from the earlier slice to the later)."""
        return [(a.name, b.name) if a.ts <= b.ts else (b.name, a.name)
                for _, _, a, b in self.flows]
    errors: dict = field(default_factory=dict)  # Perfetto's stat name -> count

    def error(self, stat):
        self.errors[stat] = self.errors.get(stat, 0) + 1


def _order(pair):
    """The sorter's order: (ts, phase key, file position)."""
    i, e = pair
    ph = e["ph"]
    # Perfetto's key is INT64_MAX - dur for 'X' and INT64_MAX for the rest:
    # a zero-length 'X' ties with flows and instants (file order decides).
    key = -math.inf if ph == "E" else -e["dur"] if ph == "X" else 0
    ts = 0 if ph == "M" else e["ts"]
    return (ts, key, i)


def _close_stack(stack, ts, dur):
    """MaybeCloseStack for a new complete slice [ts, ts + dur): pop what ended.

    Returns False when the new slice partly overlaps an open one (Perfetto
    then moves it to an overflow track, away from the thread's flows)."""
    for i in range(len(stack) - 1, -1, -1):
        s = stack[i]
        ends_before = s.end < ts
        ends_same = s.end == ts and not (s.dur == 0 and dur == 0)
        if ends_before or ends_same:
            stack.pop()  # Perfetto pops the top, whichever entry matched
            continue
        if ts < s.end < ts + dur:
            return False
    return True


def load(doc):
    """Import a trace-event dict ({"traceEvents": [...]}): slices, flows, errors."""
    res = Result()
    events = doc["traceEvents"]
    has_x = any(e.get("ph") == "X" for e in events)
    order = sorted(enumerate(events), key=_order if has_x else
                   (lambda p: (0 if p[1]["ph"] == "M" else p[1]["ts"], p[0])))
    stacks = {}  # track -> [Slice]
    starts = {}  # (id, cat, name) -> (event, Slice)
    pending = {}  # track -> [(key, event)] 'f' events waiting for the next slice

    def push(i, e, dur, instant):
        track = (e["pid"], e.get("tid", e["pid"]))
        stack = stacks.setdefault(track, [])
        if not _close_stack(stack, e["ts"], dur):
            res.error("slice_spill_overlapping_complete_event")
            return
        s = Slice(i, track, e["ts"], dur, e["name"], instant)
        stack.append(s)
        res.slices.append(s)
        for key, f in pending.pop(track, ()):  # ClosePendingEventsOnTrack
            if key in starts:
                ev, out = starts[key]
                res.flows.append((ev, f, out, s))
            else:
                res.error("flow_end_without_start")

    for i, e in order:
        ph = e["ph"]
        track = (e.get("pid"), e.get("tid", e.get("pid")))
        if ph == "X":
            push(i, e, e["dur"], False)
        elif ph in "iI" and e.get("s", "t") == "t":
            push(i, e, 0, True)
        elif ph in "stf":
            key = (e["id"], e.get("cat"), e.get("name"))
            stack = stacks.get(track)
            top = stack[-1] if stack else None
            if ph == "s":
                if top is None:
                    res.error("flow_no_enclosing_slice")
                elif key in starts:
                    res.error("flow_duplicate_id")
                else:
                    starts[key] = (e, top)
            elif ph == "f" and e.get("bp") != "e":
                pending.setdefault(track, []).append((key, e))
            elif top is None:  # 't' (a step) or 'f' bound to its enclosing slice
                res.error("flow_no_enclosing_slice")
            elif key not in starts:
                res.error("flow_step_without_start" if ph == "t" else "flow_end_without_start")
            else:
                ev, out = starts[key]
                res.flows.append((ev, e, out, top))
                if ph == "t":  # a step also starts the flow's next leg here
                    starts[key] = (e, top)
    return res


def arrows(doc):
    """[(start event, end event, from Slice, to Slice)] of every flow that
    lands: both ends bound, each to a task slice (not an instant marker) on
    its own track that encloses the flow event's time, drawn forward in
    time. Also returns the importer's result for the rest."""
    res = load(doc)
    good = []
    for s_ev, f_ev, out, into in res.flows:
        ok = (not out.is_instant and not into.is_instant
              and out.track == (s_ev["pid"], s_ev["tid"]) and out.encloses(s_ev["ts"])
              and into.track == (f_ev["pid"], f_ev["tid"]) and into.encloses(f_ev["ts"])
              and out.ts <= into.ts)
        if ok:
            good.append((s_ev, f_ev, out, into))
    return good, res


def check_arrows(items):
    """Apply the importer's rules to the export of `items`; return the
    Timeline. Every send and reply has its arrow, both ends bound, unless
    the kernel refused the send or the other end is after the recording."""
    doc = export_perfetto.build(items)
    landed, res = arrows(doc)
    assert res.errors == {}  # no flow_no_enclosing_slice, no overlapping slices
    starts = [e for e in doc["traceEvents"] if e["ph"] == "s"]
    assert len(landed) == len(res.flows) == len(starts)  # every arrow written lands
    tl = export_perfetto.Timeline(items)
    sends = [i for i in items if i.type == "event" and i.kind == "send"]
    replies = [i for i in items if i.type == "event" and i.kind == "reply"]
    by_name = {"send": 0, "reply": 0}
    for s_ev, f_ev, out, into in landed:
        by_name[s_ev["name"]] += 1
        assert s_ev["args"]["peer"] == into.track[1]  # lands on the peer's track
        assert out.name.startswith(tl.names[out.track[1]] + " (gen ")
    assert by_name["send"] + len(tl.unreceived) + sum(f.name == "send" for f in tl.open) == len(sends)
    assert by_name["reply"] + sum(f.name == "reply" for f in tl.open) == len(replies)
    return tl, landed
