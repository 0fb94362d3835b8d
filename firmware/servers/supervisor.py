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
  it (tcb.sq_head[s] != NONE, i.e. tasks IN_SEND to it) and it has not
  called recv (tcb.recvs[s] unchanged) for longer than heartbeat_ms. A hung
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
- State is preallocated at start; a decision allocates (log text), the
  quiet path (a periodic wake-up with nothing to do) allocates only the
  sv_status tuples.
"""

from array import array

from micropython import const

from keep import tcb

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


async def main(k, flap_restarts=5, flap_window_ms=10000, backoff_ms=10, backoff_max_ms=2000,
               heartbeat_ms=0, dispositions=None, servers=(), wdt=None, reboot=None,
               period_ms=100, ticks_ms=None):
    if ticks_ms is None:
        from time import ticks_ms
    from time import ticks_diff

    for key in stats:
        stats[key] = 0
    n = tcb.ntasks
    disp = bytearray(n)  # tasks the table does not list (the console proxy): restart
    if dispositions is not None:
        for s in range(min(n, len(dispositions))):
            disp[s] = dispositions[s]
    delay = array("i", [backoff_ms] * n)  # the next back-off
    due = array("i", bytes(4 * n))  # when a scheduled restart is due
    pending = bytearray(n)  # 1 while a restart waits out its back-off
    started = array("i", [ticks_ms()] * n)  # last (re)start
    flap_n = max(1, flap_restarts)
    hist = [array("i", bytes(4 * flap_n)) for _ in range(n)]  # restart times, a ring
    hist_i = bytearray(n)
    hist_c = bytearray(n)
    is_srv = bytearray(n)
    for s in servers:
        is_srv[s] = 1
    hb_busy = bytearray(n)
    hb_seen = array("H", bytes(2 * n))
    hb_since = array("i", bytes(4 * n))
    period = period_ms
    if heartbeat_ms and heartbeat_ms // 4 < period:
        period = max(1, heartbeat_ms // 4)
    if wdt is not None and wdt.timeout_ms // 4 < period:
        period = max(1, wdt.timeout_ms // 4)
    while True:
        wait = period
        now = ticks_ms()
        for s in range(1, n):
            if pending[s]:
                d = ticks_diff(due[s], now)
                wait = 0 if d <= 0 else min(wait, d)
        m = await k.recv(timeout_ms=wait, mask=_NOTE_FAULT)
        if wdt is not None:
            wdt.feed()
        now = ticks_ms()
        for s in range(1, n):
            st = k.sv_status(s)
            state = st[0]
            name = tcb.name[s]
            if pending[s]:
                if state != _FAULTED:  # released or restarted by someone else
                    pending[s] = 0
                elif ticks_diff(now, due[s]) >= 0:
                    pending[s] = 0
                    k.sv_restart(s)
                    started[s] = ticks_ms()
                    stats["restarts"] += 1
                    await k.log("supervisor: %s restarted (gen %d, restart %d)"
                                % (name, st[1] + 1, st[2] + 1))
                continue
            if state == _FAULTED:
                rec = st[4]
                why = "?"
                if rec is not None:  # keep.faultnames, not all of keep.abinames: less RAM
                    from keep import faultnames

                    why = faultnames.fault_name(rec.kind)
                d = disp[s]
                if d == _HOLD:
                    k.sv_hold(s)
                    stats["holds"] += 1
                    await k.log("supervisor: %s %s fault: held (disposition hold)" % (name, why))
                    continue
                if d == _REBOOT:
                    stats["reboots"] += 1
                    await k.log("supervisor: %s %s fault: rebooting the board (disposition reboot)"
                                % (name, why))
                    try:
                        from keep import drain

                        drain.drain(8)
                    except Exception:
                        pass
                    if reboot is None:
                        import hal

                        hal.load().reset()
                    else:
                        reboot()
                    continue
                c = 0  # restarts of s within the flap window
                h = hist[s]
                for i in range(hist_c[s]):
                    if ticks_diff(now, h[i]) < flap_window_ms:
                        c += 1
                if c >= flap_restarts:
                    k.sv_hold(s)
                    stats["flaps"] += 1
                    stats["holds"] += 1
                    await k.log("supervisor: %s is flapping: %d restarts within %d ms, last %s"
                                " fault: held (release it to try again)"
                                % (name, c, flap_window_ms, why))
                else:
                    if ticks_diff(now, started[s]) >= flap_window_ms:
                        delay[s] = backoff_ms  # quiet for a whole window: start over
                    wait_ms = delay[s]
                    nd = wait_ms * 2 if wait_ms else 0
                    delay[s] = nd if nd < backoff_max_ms else backoff_max_ms
                    h[hist_i[s]] = now
                    hist_i[s] = (hist_i[s] + 1) % flap_n
                    if hist_c[s] < flap_n:
                        hist_c[s] += 1
                    if wait_ms == 0:
                        k.sv_restart(s)
                        started[s] = ticks_ms()
                        stats["restarts"] += 1
                        await k.log("supervisor: %s %s fault: restarted" % (name, why))
                    else:
                        pending[s] = 1
                        due[s] = now + wait_ms
                        await k.log("supervisor: %s %s fault: restart in %d ms" % (name, why, wait_ms))
                continue
            if heartbeat_ms and is_srv[s] and state < _FAULTED:
                if tcb.sq_head[s] == _NONE:
                    hb_busy[s] = 0
                elif not hb_busy[s] or tcb.recvs[s] != hb_seen[s]:
                    hb_busy[s] = 1
                    hb_seen[s] = tcb.recvs[s]
                    hb_since[s] = now
                elif ticks_diff(now, hb_since[s]) > heartbeat_ms:
                    hb_busy[s] = 0
                    stats["hung"] += 1
                    await k.log("supervisor: %s hung: clients queued and no recv for %d ms"
                                % (name, ticks_diff(now, hb_since[s])))
                    k.sv_inject(s, _F_INJECTED)  # its disposition applies next round
        m.bits = 0

