"""A model of the board, fed by trace events: what the monitor shows.

BoardState.apply(item) takes the Decoder's Events and Text lines in order.
Task names follow the board's NAME records (unless the user gave --names).
It is best effort between STATE snapshots: task states follow the IPC and
syscall records (send -> in_send, recv -> runnable, ...); a STATE record
is authoritative and overrides what was inferred.
"""

from collections import deque

from .. import abi
from .events import default_name

IPC_KINDS = frozenset({"send", "recv", "reply", "notify", "wake", "deadlock", "denied",
                       "timeout"})
INCIDENT_KINDS = frozenset({"fault", "restart", "memfault", "budget", "deadlock", "denied",
                            "hold", "boot", "dropped"})
_SYSCALL_STATE = {"recv": "in_recv", "wait": "in_wait", "sleep": "sleeping"}


class Task:
    """One task slot as the trace shows it."""

    def __init__(self, slot, name):
        self.slot = slot
        self.name = name
        self.state = "runnable"
        self.peer = None  # the task it waits for (in_send / in_reply)
        self.priority = None
        self.generation = 0
        self.restarts = 0
        self.faults = {}  # fault name -> count
        self.last_fault = None
        self.switches = 0
        self.run_us = 0  # total time from its SWITCH records to the next switch
        self.max_slice_us = 0  # longest slice seen: its time-budget use
        self.budget_overruns = {}  # "heap"/"time" -> count
        self.messages_sent = 0

    def as_dict(self):
        return {k: v for k, v in vars(self).items()}


class BoardState:
    """Task table, recent IPC, incidents, log lines, heap and counters."""

    def __init__(self, names=None, counters=None, history=200):
        self.names = {int(k): v for k, v in (names or {}).items()}
        self.counters = counters
        self.tasks = {}
        self.ipc = deque(maxlen=history)
        self.incidents = deque(maxlen=history)
        self.logs = deque(maxlen=history)  # (t_us, source, text)
        self.heap_bytes = None
        self.heap_max = 0
        self.boots = 0
        self.events = 0
        self.t_us = None
        self._running = None  # (slot, slice start)

    def task(self, slot):
        t = self.tasks.get(slot)
        if t is None:
            t = self.tasks[slot] = Task(slot, self.names.get(slot) or default_name(slot))
        return t

    def _set(self, slot, state, peer=None):
        t = self.task(slot)
        t.state = state
        t.peer = peer

    def apply(self, item):
        """Take one Event or Text (in stream order)."""
        if item.type == "text":
            self.logs.append((item.t_us, "console", item.text))
            return
        self.events += 1
        k = item.kind
        f = item.fields
        s = item.slot
        if item.t_us is not None:
            self.t_us = item.t_us
        if k in IPC_KINDS:
            self.ipc.append(item)
        if k in INCIDENT_KINDS:
            self.incidents.append(item)
        handler = getattr(self, "_on_" + k, None)
        if handler:
            handler(s, f, item)

    # -- per kind ---------------------------------------------------------
    def _on_switch(self, s, f, ev):
        self._end_slice(ev.t_us)
        t = self.task(s)
        t.switches += 1
        if t.state not in ("faulted", "held", "done"):
            t.state, t.peer = "runnable", None
        self._running = (s, ev.t_us)

    def _end_slice(self, now):
        if self._running and now is not None and self._running[1] is not None:
            slot, start = self._running
            t = self.task(slot)
            t.run_us += now - start
            t.max_slice_us = max(t.max_slice_us, now - start)
        self._running = None

    def _on_send(self, s, f, ev):
        self.task(s).messages_sent += 1
        self._set(s, "in_send", f["peer"])

    def _on_recv(self, s, f, ev):
        self._set(s, "runnable")
        self._set(f["peer"], "in_reply", s)

    def _on_reply(self, s, f, ev):
        if self.task(f["peer"]).state == "in_reply":
            self._set(f["peer"], "runnable")

    def _on_wake(self, s, f, ev):
        self._set(s, "runnable")

    def _on_timeout(self, s, f, ev):
        self._set(s, "runnable")

    def _on_syscall(self, s, f, ev):
        st = _SYSCALL_STATE.get(f["syscall"])
        if st:
            self._set(s, st)

    def _on_fault(self, s, f, ev):
        t = self.task(s)
        t.faults[f["fault"]] = t.faults.get(f["fault"], 0) + 1
        t.last_fault = f["fault"]
        self._set(s, "faulted")

    def _on_memfault(self, s, f, ev):
        self.task(s).last_fault = f"memory {f['access']} r{f['region']}+{f['offset']}"

    def _on_budget(self, s, f, ev):
        t = self.task(s)
        t.budget_overruns[f["budget"]] = t.budget_overruns.get(f["budget"], 0) + 1

    def _on_restart(self, s, f, ev):
        t = self.task(s)
        t.generation = f["generation"]
        t.restarts = f["restarts"]
        self._set(s, "runnable")

    def _on_hold(self, s, f, ev):
        self._set(s, "held" if f["held"] else "runnable")

    def _on_state(self, s, f, ev):
        t = self.task(s)
        t.state, t.priority, t.generation = f["state"], f["priority"], f["generation"]
        if f["state"] == "empty":
            del self.tasks[s]

    def _on_name(self, s, f, ev):
        # The board names its tasks at boot and every 5 s (runtime.boot); the
        # decoder has already let a --names name win (ev.task is the one to show).
        self.names[s] = ev.task
        self.task(s).name = ev.task

    def _on_log(self, s, f, ev):
        self.logs.append((ev.t_us, ev.task, f["text"]))

    def _on_heap(self, s, f, ev):
        self.heap_bytes = f["bytes"]
        self.heap_max = max(self.heap_max, f["bytes"])

    def _on_boot(self, s, f, ev):
        self.boots += 1
        self._running = None
        if f["abi"] != abi.ABI_VERSION:
            self.logs.append((ev.t_us, "monitor",
                              f"board ABI {f['abi']} != host ABI {abi.ABI_VERSION}"))
