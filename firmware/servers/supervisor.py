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
- State is preallocated at start, two small buffers per task; a decision allocates
  (log text), the quiet path (a periodic wake-up with nothing to do)
  allocates nothing (tests/firmware/iso_supervisor.py locks the heap).
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

# Per-task state lives in two small buffers per task, not a dozen: each
# separate small array costs a 32-byte header plus at least one 32-byte
# data block, so twelve arrays and a ring per task were ~20 heap objects
# (1.6 KB for the chaos demo). Not one buffer for all tasks either: when
# the supervisor starts, boot has left the heap in small holes (a 64 KB
# heap had 5.6 KB free, no hole over 320 bytes), and one 500-byte table
# did not fit. Slot 0 (this task) has no entry: task s's bytes are
# tb[s - 1][field], its ints tw[s - 1][field], the ring after _NW.
_DISP = const(0)  # disposition from the table; a task it does not list: restart
_PENDING = const(1)  # 1 while a restart waits out its back-off
_HIST_I = const(2)  # next slot of the restart-time ring
_HIST_C = const(3)  # restart times in the ring (up to its length)
_IS_SRV = const(4)  # 1: a server, watched by the heartbeat
_HB_BUSY = const(5)  # 1: clients were queued at the last look
_NB = const(6)
_DELAY = const(0)  # the next back-off
_DUE = const(1)  # when a scheduled restart is due
_STARTED = const(2)  # last (re)start
_HB_SEEN = const(3)  # tcb.recvs when clients were first seen queued
_HB_SINCE = const(4)  # ... and when
_HIST = const(5)  # restart times, a ring of max(1, flap_restarts)
_NW = const(5)


async def main(k, flap_restarts=5, flap_window_ms=10000, backoff_ms=10, backoff_max_ms=2000,
               heartbeat_ms=0, dispositions=None, servers=(), wdt=None, reboot=None,
               period_ms=100, ticks_ms=None):
    if ticks_ms is None:
        from time import ticks_ms
    from time import ticks_diff

    for name in stats:  # `name`, not one more local: each is 8 B in the generator
        stats[name] = 0
    n = tcb.ntasks
    flap_n = max(1, flap_restarts)
    stride = _NW + flap_n
    tb = [bytearray(_NB) for _ in range(1, n)]
    tw = [array("i", bytes(4 * stride)) for _ in range(1, n)]
    now = ticks_ms()
    for s in range(1, n):
        if dispositions is not None and s < len(dispositions):
            tb[s - 1][_DISP] = dispositions[s]
        tw[s - 1][_DELAY] = backoff_ms
        tw[s - 1][_STARTED] = now
    for s in servers:
        if s:  # slot 0 is this task: never watched, no entry
            tb[s - 1][_IS_SRV] = 1
    if heartbeat_ms and heartbeat_ms // 4 < period_ms:
        period_ms = max(1, heartbeat_ms // 4)
    if wdt is not None and wdt.timeout_ms // 4 < period_ms:
        period_ms = max(1, wdt.timeout_ms // 4)
    while True:
        wait = period_ms
        now = ticks_ms()
        for s in range(1, n):
            if tb[s - 1][_PENDING]:
                d = ticks_diff(tw[s - 1][_DUE], now)
                wait = 0 if d <= 0 else min(wait, d)
        m = await k.recv(timeout_ms=wait, mask=_NOTE_FAULT)
        if wdt is not None:
            wdt.feed()
        now = ticks_ms()
        for s in range(1, n):
            b = tb[s - 1]  # task s's bytes
            w = tw[s - 1]  # and its ints
            # tcb directly, like sq_head and recvs below: the quiet path builds
            # no sv_status tuple; only a fault asks for one (its record).
            state = tcb.state[s]
            name = tcb.name[s]
            if b[_PENDING]:
                if state != _FAULTED:  # released or restarted by someone else
                    b[_PENDING] = 0
                elif ticks_diff(now, w[_DUE]) >= 0:
                    b[_PENDING] = 0
                    k.sv_restart(s)
                    w[_STARTED] = ticks_ms()
                    stats["restarts"] += 1
                    await k.log("supervisor: %s restarted (gen %d, restart %d)"
                                % (name, tcb.gen[s], tcb.restarts[s]))  # the new ones
                continue
            if state == _FAULTED:
                rec = k.sv_status(s)[4]
                why = "?"
                if rec is not None:  # keep.faultnames, not all of keep.abinames: less RAM
                    from keep import faultnames

                    why = faultnames.fault_name(rec.kind)
                d = b[_DISP]
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
                for i in range(b[_HIST_C]):
                    if ticks_diff(now, w[_HIST + i]) < flap_window_ms:
                        c += 1
                if c >= flap_restarts:
                    k.sv_hold(s)
                    stats["flaps"] += 1
                    stats["holds"] += 1
                    await k.log("supervisor: %s is flapping: %d restarts within %d ms, last %s"
                                " fault: held (release it to try again)"
                                % (name, c, flap_window_ms, why))
                else:
                    if ticks_diff(now, w[_STARTED]) >= flap_window_ms:
                        w[_DELAY] = backoff_ms  # quiet for a whole window: start over
                    wait_ms = w[_DELAY]
                    w[_DELAY] = min(wait_ms * 2, backoff_max_ms)  # doubles; 0 stays 0
                    i = b[_HIST_I]
                    w[_HIST + i] = now
                    b[_HIST_I] = (i + 1) % flap_n
                    if b[_HIST_C] < flap_n:
                        b[_HIST_C] += 1
                    if wait_ms == 0:
                        k.sv_restart(s)
                        w[_STARTED] = ticks_ms()
                        stats["restarts"] += 1
                        await k.log("supervisor: %s %s fault: restarted" % (name, why))
                    else:
                        b[_PENDING] = 1
                        w[_DUE] = now + wait_ms
                        await k.log("supervisor: %s %s fault: restart in %d ms" % (name, why, wait_ms))
                continue
            if heartbeat_ms and b[_IS_SRV] and state < _FAULTED:
                if tcb.sq_head[s] == _NONE:
                    b[_HB_BUSY] = 0
                elif not b[_HB_BUSY] or tcb.recvs[s] != w[_HB_SEEN]:
                    b[_HB_BUSY] = 1
                    w[_HB_SEEN] = tcb.recvs[s]
                    w[_HB_SINCE] = now
                elif ticks_diff(now, w[_HB_SINCE]) > heartbeat_ms:
                    b[_HB_BUSY] = 0
                    stats["hung"] += 1
                    await k.log("supervisor: %s hung: clients queued and no recv for %d ms"
                                % (name, ticks_diff(now, w[_HB_SINCE])))
                    k.sv_inject(s, _F_INJECTED)  # its disposition applies next round
        m.bits = 0
