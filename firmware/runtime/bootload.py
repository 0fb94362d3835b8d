"""Boot-time half of runtime.boot: read the app table and set the kernel up.

runtime.boot imports this module, calls one function and then drops it
(sys.modules entry, the keep package's attribute, a collection), so none
of this code's function objects stay in the heap while the kernel runs.
What setup() does, in order:

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
5. The console command channel (runtime/console.py): boot.console_hook is
   set to boot._console_start, which starts it on the kernel's first tick
   (console=False leaves it out). Its host proxy task `console` is spawned by the first `keep call`,
   in the slot after the app's.
6. Hooks: the kernel's tick and idle hooks (runtime.boot's _tick, _idle).
7. Trace: a BOOT record (reset cause | culprit << 8), a watchdog fault
   record for the culprit, one STATE record per task, a boot log line.

Invariants:
- Nothing made here may keep a reference to this module's globals once
  setup() returns (no function, lambda or method defined here stored in
  the kernel, a task's args or runtime.boot): that would keep the whole
  module alive. The simulator watchdog's culprit property is runtime.boot's.
- The state the run time reads (hal, wdt, boot_cause, console_hook,
  heap_ms, heap_reserved ...) is runtime.boot's; it is set there, as
  attributes, never kept here.
- A table made for another TABLE_VERSION or ABI_VERSION is refused with
  one line saying what to redeploy, never half-loaded.
- The table is read once: setup() takes its module out of sys.modules.
"""

import sys
import time

from micropython import const

from keep import caps, fault, kernel, svc, tcb, trace

from . import boot, drain

_ABI_VERSION = const(1)  # abi.ABI_VERSION
_F_WATCHDOG = const(11)  # abi.F_WATCHDOG
_KERNEL_SLOT = const(255)  # abi.KERNEL_SLOT
_ST_RUNNABLE = const(0)  # abi.ST_RUNNABLE
_TR_BOOT = const(20)  # abi.TR_BOOT
_TR_FAULT = const(9)  # abi.TR_FAULT
_TR_STATE = const(19)  # abi.TR_STATE


class BootError(Exception):
    """A table this firmware must not run (here, not in runtime.boot: a class
    costs ~0.3 KB of heap for as long as its module lives)."""


def make_wdt(h, timeout_ms):
    """The board's watchdog; on the simulator it reports kernel.running[0]
    as the culprit when it fires (a chip keeps it in RTC / scratch memory
    through the HAL's culprit_cell, when the HAL has one)."""
    if getattr(h, "NAME", "") == "sim":

        class W(h.WDT):
            culprit = property(boot._culprit, boot._culprit)  # not a lambda here: see Invariants

        return W(timeout_ms)
    return h.WDT(timeout_ms)


def load_table(name):
    """Import the table module (or take a module object) and check it."""
    t = __import__(name) if isinstance(name, str) else name
    tv = getattr(t, "TABLE_VERSION", None)
    if tv != boot.TABLE_VERSION:
        raise BootError("app table version %r, this firmware reads %d: redeploy both from "
                             "one checkout" % (tv, boot.TABLE_VERSION))
    if t.ABI_VERSION != _ABI_VERSION:
        raise BootError("app table made for ABI %d, kernel is ABI %d: recompile the table"
                             % (t.ABI_VERSION, _ABI_VERSION))
    return t


def entry(module, function):
    """The task function `function` of `module` (dotted path)."""
    __import__(module)
    return getattr(sys.modules[module], function)


def setup(t, hal_impl=None, out=None, wdt_ms=None, console=True):
    """runtime.boot.setup: everything main() does short of kernel.run()."""
    import hal as hal_pkg

    b = boot
    hal = b.hal = hal_impl if hal_impl is not None else hal_pkg.load(getattr(t, "HAL", None))
    cause = b.boot_cause = hal.reset_cause()
    culprit = hal.reset_culprit() if hasattr(hal, "reset_culprit") else 0xFF
    if cause != hal_pkg.WDT_RESET:
        culprit = 0xFF
    b.boot_culprit = culprit
    kernel.boot(t.MAX_MSG, t.TRACE_RECORDS)
    trace.clear()  # kernel.boot's own BOOT record: ours carries the cause
    trace.write(_TR_BOOT, _KERNEL_SLOT, _ABI_VERSION, cause | culprit << 8)
    cell = getattr(hal, "culprit_cell", None)
    if cell is not None:
        kernel.running = cell()  # a byte that survives a watchdog reset
    rows = t.TASKS
    specs = [r.regions for r in rows]
    if any(specs) or "keep.mem" in sys.modules:
        # keep.mem loads only when a task declares a region (or a previous
        # boot in this process left an arena that must be let go).
        from keep import mem

        rules = mem.rules_from(getattr(t, "MPU", getattr(t, "HAL", None)))
        mem.init(mem.need(specs, rules), rules)
    if wdt_ms is None:
        wdt_ms = getattr(t, "WDT_MS", 0)
    b.heap_ms = getattr(t, "HEAP_MS", 500)
    b.heap_reserved = hal.heap_reserved() if hasattr(hal, "heap_reserved") else 0
    if hasattr(hal, "heap_meter"):  # simulated hardware that allocates: not the task's bytes
        kernel.heap_meter = hal.heap_meter
    b._heap_t[0] = time.ticks_ms()
    wdt = b.wdt = make_wdt(hal, wdt_ms) if wdt_ms else None
    sup = getattr(t, "SUPERVISOR", (5, 10000, 10, 2000, 0))
    for slot in range(len(rows)):
        row = rows[slot]
        # The row's own dict, not a copy: the kernel keeps it for restarts,
        # and the keys added here are the same on every boot of this table.
        args = row.args
        if row.owns:  # None unless it owns hardware (only the non-empty kinds)
            args["owns"] = row.owns
        if slot == 0:
            args["flap_restarts"], args["flap_window_ms"], args["backoff_ms"], \
                args["backoff_max_ms"], args["heartbeat_ms"] = sup
            args["dispositions"] = bytes(r.disposition for r in rows)
            args["servers"] = tuple(i for i in range(len(rows)) if rows[i].server)
            args["wdt"] = wdt
            args["reboot"] = hal.reset
        kernel.spawn(entry(row.module, row.function), row.priority, row.name, args=args,
                     heap_budget=row.heap_budget, slice_ms=row.slice_ms, regions=row.regions)
    caps.load([r.grants for r in rows])
    svc.set_supervisor(0)
    fault.hook = b._supervisor_fault
    sink = out if out is not None else getattr(sys.stdout, "buffer", sys.stdout)
    b.console_hook = None
    if console:  # started on the first tick, after this module and the table are gone
        b.console_sink = sink
        b.console_hook = b._console_start
    if culprit < len(rows):
        report_watchdog(culprit)
    for s in range(tcb.ntasks):
        trace.write(_TR_STATE, s, tcb.state[s] | tcb.prio[s] << 8, tcb.gen[s])
    b.write_names()  # so the monitor shows names without --names
    line = "boot: app %s on %s, %d tasks, reset %s" % (
        getattr(t, "APP", "?"), getattr(t, "BOARD", "?"), tcb.ntasks,
        hal_pkg.RESET_NAMES[cause] if cause < len(hal_pkg.RESET_NAMES) else cause)
    raw = line.encode()
    trace.write_text(_KERNEL_SLOT, raw, len(raw))
    drain.reset(sink)
    kernel.tick_hook = b._tick
    kernel.idle_hook = b._idle
    # The table is read once. Out of sys.modules, its rows (~1.5 KB of tuples
    # on the demo) are freed once the caller lets go of `t`; what the kernel
    # needs again (each task's args, for restarts) it holds itself.
    if sys.modules.get(getattr(t, "__name__", "")) is t:
        del sys.modules[t.__name__]
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


def main(table, hal_impl, out, wdt_ms, console):
    """runtime.boot.main's boot half: load the table, set up, say so."""
    t = setup(load_table(table), hal_impl, out, wdt_ms, console)
    if out is None:  # on the console, for whoever watches it (the trace has the same)
        print("keep: kernel running, %d tasks (app %s on %s)" % (
            tcb.ntasks, getattr(t, "APP", "?"), getattr(t, "BOARD", "?")))
    return t


def safe_boot(pin=None):
    """runtime.boot.safe_boot."""
    import os

    try:
        os.stat(boot.SAFEBOOT_FILE)
        return True
    except OSError:
        pass
    if pin is not None:
        import hal as hal_pkg

        h = hal_pkg.load()
        return h.Pin(pin, hal_pkg.IN, hal_pkg.PULL_UP).value() == 0
    return False


def start(table, pin):
    """runtime.boot.start's boot half: safe-boot checks, then main()'s boot
    half. The table module when the kernel is to run, else None."""
    if safe_boot():
        print("keep: safe boot (%s file present): kernel not started" % boot.SAFEBOOT_FILE)
        return None
    try:
        t = load_table(table)
    except Exception as e:  # a missing or broken table must not lock the user out
        print("keep: boot refused:", e)
        return None
    if pin is None:
        pin = getattr(t, "SAFEBOOT_PIN", None)
    if pin is not None and safe_boot(pin):
        print("keep: safe boot (pin %d held): kernel not started" % pin)
        return None
    return main(t, None, None, None, True)
