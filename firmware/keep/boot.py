"""Boot: from the compiled app table to a running kernel.

main() imports the device table the host compiled (app_table.py, layout in
docs/manifest.md), sets the kernel up from it and runs it:

1. kernel.boot(MAX_MSG, TRACE_RECORDS); the HAL (hal.load(HAL)); the reset
   cause, and after a watchdog reset the slot that was running then.
2. The region arena, sized from every task's regions under the board's MPU
   rules (table MPU if present, else the rules for its HAL); keep.mem is
   loaded only when some task declares a region.
3. Every task from TASKS in slot order (the supervisor is slot 0), entry
   imported with __import__, args as keyword arguments; budgets, regions.
   A task that owns hardware (its `owns` is not None) also gets `owns=`
   (the manifest's table, only the kinds it owns): servers take what they
   drive from there and nowhere else. The supervisor gets its policy (SUPERVISOR,
   dispositions, servers, the watchdog) as keyword arguments on top.
4. Grants (caps.load), the supervisor slot, a hook that reboots the board
   if the supervisor itself faults.
5. The console command channel (keep/console.py): console.start() spawns
   its host proxy task `console` in the next slot, and console_hook is set
   to console.poll (console=False leaves both out).
6. Hooks: the kernel's tick and idle hooks poll the HAL, call console_hook
   and drain the trace to the console (sys.stdout.buffer); the tick hook
   also writes a TR_HEAP record of the live heap every heap_ms.
7. Trace: a BOOT record (reset cause | culprit << 8), a watchdog fault
   record for the culprit, one STATE record per task, a boot log line;
   then main() prints `keep: kernel running, N tasks` on the console and
   runs the kernel.

Ctrl-C (KeyboardInterrupt) returns from main() to the REPL; a reboot
(hal.reset, SystemExit on the unix port) passes through.

Invariants:
- Nothing here runs after kernel.run() starts except the hooks, which
  allocate nothing when there is nothing to do.
- A table made for another TABLE_VERSION or ABI_VERSION is refused with
  one line saying what to redeploy, never half-loaded.
"""

import gc
import sys
import time

from micropython import const

from . import caps, drain, fault, kernel, svc, tcb, trace

_ABI_VERSION = const(1)  # abi.ABI_VERSION
_F_WATCHDOG = const(11)  # abi.F_WATCHDOG
_KERNEL_SLOT = const(255)  # abi.KERNEL_SLOT
_ST_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_TR_BOOT = const(20)  # abi.TR_BOOT
_TR_FAULT = const(9)  # abi.TR_FAULT
_TR_HEAP = const(17)  # abi.TR_HEAP
_TR_NAME = const(23)  # abi.TR_NAME
_TR_STATE = const(19)  # abi.TR_STATE

TABLE_VERSION = 2  # host_tools/keep_host/manifest/table.py TABLE_VERSION
SAFEBOOT_FILE = "SAFEBOOT"

# ---- hook point: the console command channel -----------------------------------
# setup() sets this to keep.console.poll, polled from the kernel's tick and
# idle hooks: it reads pending command bytes without blocking and answers
# them. None = no command channel.
console_hook = None

hal = None  # the HAL implementation module, once main() loaded it
wdt = None  # the watchdog, when the table enabled one
table = None  # the loaded app table module
boot_cause = 0
boot_culprit = 0xFF
# Live heap report: every heap_ms (table HEAP_MS, default 500; 0 = off) the
# tick hook collects and writes a TR_HEAP record of gc.mem_alloc() - what is
# still referenced, not garbage waiting for the collector. `keep monitor`
# shows it; `keep demo` reports the highest as the demo's heap peak.
heap_ms = 500
_heap_t = [0, 0]  # ticks_ms of the last heap record, heap records written
# Bytes of the heap that are not the firmware's: the virtual board keeps its
# simulated ROMFS partition there (hal.sim.heap_reserved); 0 on a board.
heap_reserved = 0


class BootError(Exception):
    pass


# Every _NAMES_EVERY heap records (5 s) the task names go out again, so a
# monitor attached after boot learns them too.
_NAMES_EVERY = const(10)


def write_names():
    """One NAME record (and its text) per task: the monitor shows names."""
    for s in range(tcb.ntasks):
        name = tcb.name[s].encode()
        trace.write_chars(_TR_NAME, s, name, len(name))


def _heap():
    t = time.ticks_ms()
    if time.ticks_diff(t, _heap_t[0]) >= heap_ms:
        _heap_t[0] = t
        gc.collect()  # ~1 ms on a 100 KB heap; between slices, charged to no task
        trace.write(_TR_HEAP, _KERNEL_SLOT, 0, gc.mem_alloc() - heap_reserved)
        _heap_t[1] += 1
        if _heap_t[1] % _NAMES_EVERY == 0:
            write_names()


def _tick():
    hal.poll()
    if console_hook is not None:
        console_hook()
    if heap_ms:
        _heap()
    drain.drain()


def _idle(wait_ms):
    if console_hook is not None:
        console_hook()
    if heap_ms:
        _heap()
    drain.drain()
    if wait_ms == 0:
        hal.poll()
    else:
        hal.idle()


def _supervisor_fault(slot):
    """fault.hook: the supervisor is what restarts others; if it faults the
    board reboots (its disposition in every table)."""
    if slot == fault.supervisor:
        drain.drain(8, 0)
        hal.reset()


def make_wdt(h, timeout_ms):
    """The board's watchdog; on the simulator it reports kernel.running[0]
    as the culprit when it fires (a chip keeps it in RTC / scratch memory
    through the HAL's culprit_cell, when the HAL has one)."""
    if getattr(h, "NAME", "") == "sim":

        class W(h.WDT):
            culprit = property(lambda self: kernel.running[0], lambda self, v: None)

        return W(timeout_ms)
    return h.WDT(timeout_ms)


def load_table(name):
    """Import the table module (or take a module object) and check it."""
    t = __import__(name) if isinstance(name, str) else name
    tv = getattr(t, "TABLE_VERSION", None)
    if tv != TABLE_VERSION:
        raise BootError("app table version %r, this firmware reads %d: redeploy both from one "
                        "checkout" % (tv, TABLE_VERSION))
    if t.ABI_VERSION != _ABI_VERSION:
        raise BootError("app table made for ABI %d, kernel is ABI %d: recompile the table"
                        % (t.ABI_VERSION, _ABI_VERSION))
    return t


def entry(module, function):
    """The task function `function` of `module` (dotted path)."""
    __import__(module)
    return getattr(sys.modules[module], function)


def setup(t, hal_impl=None, out=None, wdt_ms=None, console=True):
    """Everything main() does short of kernel.run(): returns the table.

    out replaces sys.stdout.buffer as the trace sink (anything with
    write(buf, n)); console=False boots without the command channel.
    """
    global hal, wdt, table, boot_cause, boot_culprit, console_hook, heap_ms, heap_reserved
    import hal as hal_pkg

    table = t
    hal = hal_impl if hal_impl is not None else hal_pkg.load(getattr(t, "HAL", None))
    boot_cause = hal.reset_cause()
    boot_culprit = hal.reset_culprit() if hasattr(hal, "reset_culprit") else 0xFF
    if boot_cause != hal_pkg.WDT_RESET:
        boot_culprit = 0xFF
    kernel.boot(t.MAX_MSG, t.TRACE_RECORDS)
    trace.clear()  # kernel.boot's own BOOT record: ours carries the cause
    trace.write(_TR_BOOT, _KERNEL_SLOT, _ABI_VERSION, boot_cause | boot_culprit << 8)
    cell = getattr(hal, "culprit_cell", None)
    if cell is not None:
        kernel.running = cell()  # a byte that survives a watchdog reset
    rows = t.TASKS
    specs = [r[6] for r in rows]
    if any(specs) or "keep.mem" in sys.modules:
        # keep.mem loads only when a task declares a region (or a previous
        # boot in this process left an arena that must be let go).
        from . import mem

        rules = mem.rules_from(getattr(t, "MPU", getattr(t, "HAL", None)))
        mem.init(mem.need(specs, rules), rules)
    if wdt_ms is None:
        wdt_ms = getattr(t, "WDT_MS", 0)
    heap_ms = getattr(t, "HEAP_MS", 500)
    heap_reserved = hal.heap_reserved() if hasattr(hal, "heap_reserved") else 0
    _heap_t[0] = time.ticks_ms()
    wdt = make_wdt(hal, wdt_ms) if wdt_ms else None
    sup = getattr(t, "SUPERVISOR", (5, 10000, 10, 2000, 0))
    for slot in range(len(rows)):
        (name, module, function, prio, _disp, _server, regions, _grants, owns,
         heap_budget, slice_ms, args) = rows[slot]
        # The row's own dict, not a copy: the kernel keeps it for restarts,
        # and the keys added here are the same on every boot of this table.
        if owns:  # None unless it owns hardware (only the non-empty kinds)
            args["owns"] = owns
        if slot == 0:
            args["flap_restarts"], args["flap_window_ms"], args["backoff_ms"], \
                args["backoff_max_ms"], args["heartbeat_ms"] = sup
            args["dispositions"] = bytes(r[4] for r in rows)
            args["servers"] = tuple(i for i in range(len(rows)) if rows[i][5])
            args["wdt"] = wdt
            args["reboot"] = hal.reset
        kernel.spawn(entry(module, function), prio, name, args=args,
                     heap_budget=heap_budget, slice_ms=slice_ms, regions=regions)
    caps.load([r[7] for r in rows])
    svc.set_supervisor(0)
    fault.hook = _supervisor_fault
    sink = out if out is not None else getattr(sys.stdout, "buffer", sys.stdout)
    console_hook = None
    if console:
        from . import console as con

        con.start(sink=sink)  # the proxy task takes the slot after the app's
        console_hook = con.poll
    if boot_culprit < len(rows):
        report_watchdog(boot_culprit)
    for s in range(tcb.ntasks):
        trace.write(_TR_STATE, s, tcb.state[s] | tcb.prio[s] << 8, tcb.gen[s])
    write_names()  # so the monitor shows names without --names
    line = "boot: app %s on %s, %d tasks, reset %s" % (
        getattr(t, "APP", "?"), getattr(t, "BOARD", "?"), tcb.ntasks,
        hal_pkg.RESET_NAMES[boot_cause] if boot_cause < len(hal_pkg.RESET_NAMES) else boot_cause)
    raw = line.encode()
    trace.write_text(_KERNEL_SLOT, raw, len(raw))
    drain.reset(sink)
    kernel.tick_hook = _tick
    kernel.idle_hook = _idle
    return t


def report_watchdog(slot):
    """After a watchdog reset: a fault record and trace for the task that
    was running when it fired (it is running again now, freshly started)."""
    rec = fault.FaultRecord(slot, _F_WATCHDOG, _ST_RUNNABLE, 0xFF, 0,
                            "the watchdog reset the board while this task ran", kernel.now_ms())
    fault.records[slot] = rec
    trace.write(_TR_FAULT, slot, _F_WATCHDOG | _ST_RUNNABLE << 8, 0)
    raw = rec.text().encode()
    trace.write_text(slot, raw, len(raw))


def main(table="app_table", hal_impl=None, out=None, wdt_ms=None, duration_ms=None,
         console=True):
    """Boot the app in `table` and run the kernel until Ctrl-C (or reboot)."""
    t = setup(load_table(table), hal_impl, out, wdt_ms, console)
    if out is None:  # on the console, for whoever watches it (the trace has the same)
        print("keep: kernel running, %d tasks (app %s on %s)" % (
            tcb.ntasks, getattr(t, "APP", "?"), getattr(t, "BOARD", "?")))
    try:
        kernel.run(duration_ms=duration_ms)
    except KeyboardInterrupt:
        tcb.cur = tcb.NONE  # the loop was left mid-slice
        kernel.running[0] = tcb.NONE
        drain.drain(16, 0)
        print("\nkeep: stopped by Ctrl-C; the REPL is yours")
        return False
    drain.drain(16, 0)
    return True


def safe_boot(pin=None):
    """True when auto-start must be skipped: a SAFEBOOT file on the board's
    flash, or `pin` (e.g. the BOOT button, active low) held down."""
    import os

    try:
        os.stat(SAFEBOOT_FILE)
        return True
    except OSError:
        pass
    if pin is not None:
        import hal as hal_pkg

        h = hal_pkg.load()
        return h.Pin(pin, hal_pkg.IN, hal_pkg.PULL_UP).value() == 0
    return False


def start(table="app_table", pin=None):
    """What main.py calls: safe-boot checks, then main(). The pin comes
    from the table's SAFEBOOT_PIN when not given."""
    if safe_boot():
        print("keep: safe boot (%s file present): kernel not started" % SAFEBOOT_FILE)
        return False
    try:
        t = load_table(table)
    except Exception as e:  # a missing or broken table must not lock the user out
        print("keep: boot refused:", e)
        return False
    if pin is None:
        pin = getattr(t, "SAFEBOOT_PIN", None)
    if pin is not None and safe_boot(pin):
        print("keep: safe boot (pin %d held): kernel not started" % pin)
        return False
    return main(t)
