"""Boot: from the compiled app table to a running kernel.

main() imports the device table the host compiled (app_table.py, layout in
docs/manifest.md), sets the kernel up from it and runs it. The boot-time
work (table checks, the HAL, tasks, grants, the console channel, the first
trace records: the steps are listed in runtime/bootload.py) lives in
runtime.bootload, which setup(), main(), start(), load_table() and safe_boot()
import, call and then drop again (sys.modules, the package attribute, a
collection): its code costs no heap while the kernel runs, and a second
boot in the same process (tests, bench) simply imports it again. What
stays here is what the run time needs:

- the kernel's tick and idle hooks: they poll the HAL, call console_hook
  and drain the trace to the console (sys.stdout.buffer); the tick hook
  also writes a TR_HEAP record of the live heap every heap_ms, and the
  task names every 5 s;
- the hook that reboots the board if the supervisor faults;
- the boot's state other modules and tests read (hal, wdt,
  boot_cause, boot_culprit, console_hook, heap_reserved);
- main()'s run part: `keep: kernel running, N tasks` is printed on the
  console, then kernel.run().

Ctrl-C (KeyboardInterrupt) returns from main() to the REPL; a reboot
(hal.reset, SystemExit on the unix port) passes through.

Invariants:
- Nothing here runs after kernel.run() starts except the hooks, which
  allocate nothing when there is nothing to do.
- runtime.bootload is not in sys.modules while the kernel runs.
- A table made for another TABLE_VERSION or ABI_VERSION is refused with
  one line saying what to redeploy, never half-loaded.
"""

import gc

# Collect after every 2 KB allocated, from the first import on, not only
# when the heap is full. MicroPython's collector never moves objects: left
# alone, garbage piles up between long-lived objects until a full heap
# holds its free space in pieces too small for the next allocation. Small
# and often, each collection finds little and the heap stays packed: the
# chaos demo runs in a 64 KB heap this way and needed 70 KB without it
# (bench/demo_heap.py demo_min_heap_bytes), at the cost of a collection
# per 2 KB the tasks allocate (~1 ms each on this heap).
gc.threshold(2048)  # before the imports below: they are most of the boot

import sys  # noqa: E402
import time  # noqa: E402

from micropython import const  # noqa: E402

from keep import fault, kernel, tcb, trace  # noqa: E402

from . import drain  # noqa: E402

_KERNEL_SLOT = const(255)  # abi.KERNEL_SLOT
_TR_HEAP = const(17)  # abi.TR_HEAP
_TR_NAME = const(23)  # abi.TR_NAME

TABLE_VERSION = 2  # host_tools/keep_host/manifest/table.py TABLE_VERSION
SAFEBOOT_FILE = "SAFEBOOT"

# ---- hook point: the console command channel -----------------------------------
# Polled from the kernel's tick and idle hooks: runtime.console.poll reads
# pending command bytes without blocking and answers them. setup() sets it
# to _console_start, which loads and starts the channel on the first tick,
# once runtime.bootload and the table are gone: not loading it inside the
# boot keeps ~1.2 KB off the boot's peak (the highest point of a small
# board's heap). Bytes the host sends before then wait in stdin.
# None = no command channel.
console_hook = None
console_sink = None  # where the channel writes its replies (setup's `out`)

hal = None  # the HAL implementation module, once setup() loaded it
wdt = None  # the watchdog, when the table enabled one
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


def _console_start():
    """console_hook until the first tick: start the channel, then poll it."""
    global console_hook
    from . import console

    console.start(sink=console_sink)
    console_hook = console.poll
    console.poll()


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


def _culprit(w, v=None):
    """The simulator watchdog's culprit property (getter and ignored
    setter): kernel.running[0]. Here, not in runtime.bootload, so the
    watchdog does not keep that module alive."""
    return kernel.running[0]


def _boot(fn, *args):
    """Call runtime.bootload's `fn`, then drop the module again."""
    from . import bootload

    try:
        return getattr(bootload, fn)(*args)
    finally:
        bootload = None
        sys.modules.pop("runtime.bootload", None)
        pkg = sys.modules.get("runtime")
        if pkg is not None and "bootload" in pkg.__dict__:
            delattr(pkg, "bootload")
        gc.collect()


def load_table(name):
    """Import the table module (or take a module object) and check it:
    runtime.bootload.BootError when it was made for another TABLE_VERSION or ABI."""
    return _boot("load_table", name)


def setup(t, hal_impl=None, out=None, wdt_ms=None, console=True):
    """Everything main() does short of kernel.run(): returns the table.

    out replaces sys.stdout.buffer as the trace sink (anything with
    write(buf, n)); console=False boots without the command channel.
    """
    return _boot("setup", t, hal_impl, out, wdt_ms, console)


def _run(duration_ms):
    """main()'s run part: the kernel until Ctrl-C (False) or its end (True)."""
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


def main(table="app_table", hal_impl=None, out=None, wdt_ms=None, duration_ms=None,
         console=True):
    """Boot the app in `table` (name or module) and run the kernel until
    Ctrl-C (or reboot); prints `keep: kernel running, ...` when out is None."""
    _boot("main", table, hal_impl, out, wdt_ms, console)
    return _run(duration_ms)


def safe_boot(pin=None):
    """True when auto-start must be skipped: a SAFEBOOT file on the board's
    flash, or `pin` (e.g. the BOOT button, active low) held down."""
    return _boot("safe_boot", pin)


def start(table="app_table", pin=None):
    """What main.py calls: safe-boot checks, then main(). The pin comes
    from the table's SAFEBOOT_PIN when not given. False when the kernel
    was not started (safe boot, a refused table) or stopped by Ctrl-C."""
    if _boot("start", table, pin) is None:
        return False
    return _run(None)
