"""Supervisor: task slot 0, receive-only; restart policy outside the kernel.

The kernel only contains a fault (keep/fault.py) and posts NOTE_FAULT to
this task. Here is the policy, per task, from the app table:

- disposition `restart` (0): restart after a back-off that starts at
  backoff_ms and doubles up to backoff_max_ms; a task that ran a whole
  flap_window_ms since its last restart without faulting starts again from
  backoff_ms. More than flap_restarts restarts within flap_window_ms is a
  crash loop ("flapping"): the task is held and a report line is logged.
- disposition `hold` (1): leave it stopped (held) and log why.
- disposition `reboot` (2): log, drain the trace, reset the board (HAL).
- heartbeat (heartbeat_ms > 0, servers only): the supervisor never sends,
  so it cannot ping. Instead a server is *hung* when clients are queued at
  it (TaskState.queued: tasks IN_SEND to it) and it has not called recv
  (TaskState.recvs unchanged) for longer than heartbeat_ms. A hung
  server gets an injected fault and then its disposition, like any fault.
  A server that holds a message unanswered (a client IN_REPLY) without
  others queued is not hung: deferred replies are legitimate.
- watchdog: when given one (hal.WDT) it is fed at each of this task's
  slices. The supervisor is the most important task and wakes at least
  every period_ms, so its slices prove the kernel loop is making progress;
  a task that never yields stops them and the watchdog resets the board.

Protocol: none. It only receives notifications (NOTE_FAULT); it is granted
to nobody and sends to nobody. It logs one line per decision.

Invariants:
- Only slots 1..ntasks-1 are managed; slot 0 faulting is the boot code's
  business (fault.hook reboots the board).
- A task waiting out its back-off stays FAULTED, so its clients keep
  getting E_DEAD until it is restarted with a new generation.
- It reads task state through the sv_task supervisor call (docs/kernel.md),
  never the kernel's tables.
- State is made at start, one Task record per managed task; a decision
  allocates (log text, a restart time), the quiet path (a periodic wake-up
  with nothing to do) allocates nothing (tests/firmware/iso_supervisor.py
  locks the heap).
"""

from time import ticks_diff

from micropython import const

_F_INJECTED = const(9)  # abi.F_INJECTED
_NOTE_FAULT = const(536870912)  # abi.NOTE_FAULT

_FAULTED = const(6)
_HELD = const(7)
_DONE = const(8)
_EMPTY = const(9)
_NONE = const(0xFF)
_RESTART = const(0)
_HOLD = const(1)
_REBOOT = const(2)

# What the supervisor did, for tests, benches and `keep tasks`.
stats = {"restarts": 0, "holds": 0, "flaps": 0, "hung": 0, "reboots": 0}


class Task:
    """The supervisor's record of one managed task (slots 1..ntasks-1)."""

    # Defaults, kept by the class: an instance pays a dict entry (16 bytes
    # on a 64-bit port) only for what it sets, and most tasks never fault,
    # are not servers, and keep the restart disposition.
    disposition = _RESTART  # from the app table
    server = False  # watched by the heartbeat
    due = None  # when a restart waiting out its back-off is due
    restart_times = ()  # the last flap_restarts restarts, oldest first
    hb_since = None  # when clients were first seen queued without a recv
    hb_recvs = 0  # ... and the server's recv count then

    def __init__(self, slot, backoff_ms, now):
        self.slot = slot
        self.delay = backoff_ms  # the next back-off
        self.started = now  # last (re)start


async def main(k, flap_restarts=5, flap_window_ms=10000, backoff_ms=10, backoff_max_ms=2000,
               heartbeat_ms=0, dispositions=None, servers=(), wdt=None, reboot=None,
               period_ms=100, ticks_ms=None):
    if ticks_ms is None:
        from time import ticks_ms
    if heartbeat_ms and heartbeat_ms // 4 < period_ms:
        period_ms = max(1, heartbeat_ms // 4)
    if wdt is not None and wdt.timeout_ms // 4 < period_ms:
        period_ms = max(1, wdt.timeout_ms // 4)
    for name in stats:
        stats[name] = 0
    sup = Supervisor(k, flap_restarts, flap_window_ms, backoff_ms, backoff_max_ms, heartbeat_ms,
                     wdt, reboot, period_ms, ticks_ms)
    now = ticks_ms()
    for s in range(1, k.sv_task(0).ntasks):
        t = Task(s, backoff_ms, now)
        if dispositions is not None and s < len(dispositions) and dispositions[s] != _RESTART:
            t.disposition = dispositions[s]
        if s in servers:
            t.server = True
        sup.tasks.append(t)
    await sup.run()


class Supervisor:
    """The policy: main's arguments, the managed tasks, the loop."""

    def __init__(self, k, flap_restarts, flap_window_ms, backoff_ms, backoff_max_ms,
                 heartbeat_ms, wdt, reboot, period_ms, ticks_ms):
        self.k = k
        self.flap_restarts = flap_restarts
        self.flap_window_ms = flap_window_ms
        self.backoff_ms = backoff_ms
        self.backoff_max_ms = backoff_max_ms
        self.heartbeat_ms = heartbeat_ms
        self.wdt = wdt
        self.reboot = reboot
        self.period_ms = period_ms
        self.ticks_ms = ticks_ms
        self.tasks = []  # a Task per managed slot, in slot order

    async def run(self):
        # The quiet path (nothing due, nothing faulted, no server hung) is
        # this loop alone: it allocates nothing (iso_supervisor.py locks
        # the heap); decisions call the methods below, which may.
        k = self.k
        while True:
            wait = self.period_ms
            now = self.ticks_ms()
            for t in self.tasks:
                if t.due is not None:
                    wait = max(0, min(wait, ticks_diff(t.due, now)))
            m = await k.recv(timeout_ms=wait, mask=_NOTE_FAULT)
            if self.wdt is not None:
                self.wdt.feed()
            now = self.ticks_ms()
            for t in self.tasks:
                ts = k.sv_task(t.slot)  # the kernel's record: valid until the next sv_task
                if t.due is not None:
                    if ts.state != _FAULTED:  # released or restarted by someone else
                        t.due = None
                    elif ticks_diff(now, t.due) >= 0:
                        t.due = None
                        await self.restart(t, "restarted")
                elif ts.state == _FAULTED:
                    await self.decide(t, ts, now)
                elif self.heartbeat_ms and t.server and ts.state < _FAULTED:
                    if not ts.queued:
                        if t.hb_since is not None:  # (stays a class default while idle)
                            t.hb_since = None
                    elif t.hb_since is None or ts.recvs != t.hb_recvs:
                        t.hb_since = now
                        t.hb_recvs = ts.recvs
                    elif ticks_diff(now, t.hb_since) > self.heartbeat_ms:
                        await self.hung(t, ts, now)
            m.bits = 0

    async def restart(self, t, what):
        """Restart t now and log `what` (the new generation and count if
        what is "restarted": a restart that waited out its back-off)."""
        self.k.sv_restart(t.slot)
        t.started = self.ticks_ms()
        stats["restarts"] += 1
        ts = self.k.sv_task(t.slot)
        if what == "restarted":
            what = "restarted (gen %d, restart %d)" % (ts.gen, ts.restarts)
        await self.k.log("supervisor: %s %s" % (ts.name, what))

    async def decide(self, t, ts, now):
        """t faulted: apply its disposition."""
        k = self.k
        name = ts.name
        why = "?"
        if ts.fault is not None:  # keep.faultnames, not all of keep.abinames: less RAM
            from keep import faultnames

            why = faultnames.fault_name(ts.fault.kind)
        if t.disposition == _HOLD:
            k.sv_hold(t.slot)
            stats["holds"] += 1
            await k.log("supervisor: %s %s fault: held (disposition hold)" % (name, why))
            return
        if t.disposition == _REBOOT:
            stats["reboots"] += 1
            await k.log("supervisor: %s %s fault: rebooting the board (disposition reboot)"
                        % (name, why))
            try:
                from runtime import drain

                drain.drain(8)
            except Exception:
                pass
            if self.reboot is None:
                import hal

                hal.load().reset()
            else:
                self.reboot()
            return
        recent = 0  # restarts within the flap window
        for at in t.restart_times:
            if ticks_diff(now, at) < self.flap_window_ms:
                recent += 1
        if recent >= self.flap_restarts:
            k.sv_hold(t.slot)
            stats["flaps"] += 1
            stats["holds"] += 1
            await k.log("supervisor: %s is flapping: %d restarts within %d ms, last %s"
                        " fault: held (release it to try again)"
                        % (name, recent, self.flap_window_ms, why))
            return
        if ticks_diff(now, t.started) >= self.flap_window_ms:
            t.delay = self.backoff_ms  # quiet for a whole window: start over
        wait_ms = t.delay
        t.delay = min(wait_ms * 2, self.backoff_max_ms)  # doubles; 0 stays 0
        times = t.restart_times + (now,)
        t.restart_times = times[-max(1, self.flap_restarts):]
        if wait_ms == 0:
            await self.restart(t, "%s fault: restarted" % why)
        else:
            t.due = now + wait_ms
            await k.log("supervisor: %s %s fault: restart in %d ms" % (name, why, wait_ms))

    async def hung(self, t, ts, now):
        """A server with clients queued and no recv for heartbeat_ms: inject
        a fault; its disposition applies at the next round."""
        stats["hung"] += 1
        await self.k.log("supervisor: %s hung: clients queued and no recv for %d ms"
                         % (ts.name, ticks_diff(now, t.hb_since)))
        t.hb_since = None
        self.k.sv_inject(t.slot, _F_INJECTED)
