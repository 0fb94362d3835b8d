"""Simulated watchdog, reset and reset cause for the virtual board.

The virtual board's "reset" ends the unix process; the process that runs
it (keep vboard) starts a new one, as a chip would reboot. What caused the
reset is written first to a small file, `.keep_reset_cause` in the board's
flash directory (KEEP_SIM_STATE_DIR, default the working directory), as
"<cause> <culprit>"; the next boot's reset_cause() reads and removes it.
No file means the board was just powered on (PWRON_RESET).

- reset(): writes SOFT_RESET (what an ESP32 reports after machine.reset())
  and raises SystemExit(EXIT_RESET); the exit status tells the vboard to
  restart the board.
- WDT(timeout_ms): if not fed within timeout_ms, writes WDT_RESET with
  `culprit` (the kernel sets it to the slot that was running) and kills
  the process with SIGKILL, from a watchdog thread, so even a task that
  never yields is caught, as on hardware. hal.sim.poll() checks it too.
  Tests may set `on_expire` to a function to observe expiry instead.

Invariants:
- feed() allocates nothing.
- A cause is read once per boot and then forgotten, so a later power-on
  (no file) is never mistaken for a watchdog reset.
"""

import os
from time import sleep_ms, ticks_add, ticks_diff, ticks_ms

from micropython import const

from hal import PWRON_RESET, SOFT_RESET, WDT_RESET

EXIT_RESET = const(3)  # process exit status meaning "reboot me"
CAUSE_FILE = ".keep_reset_cause"
KILL = "kill -9 $PPID"  # the unix port has no os._exit; end the process like a chip reset

_cause = [None, 0xFF]  # cause this boot, culprit slot
on_expire = None  # test hook: called (wdt) instead of killing the process
_active = [None]  # the running WDT (one per chip)


def _path():
    d = os.getenv("KEEP_SIM_STATE_DIR")
    return (d + "/" if d else "") + CAUSE_FILE


def write_cause(cause, culprit=0xFF):
    with open(_path(), "w") as f:
        f.write("%d %d\n" % (cause, culprit))


def reset_cause():
    if _cause[0] is None:
        cause = PWRON_RESET
        try:
            with open(_path()) as f:
                parts = f.read().split()
            cause = int(parts[0])
            _cause[1] = int(parts[1]) if len(parts) > 1 else 0xFF
            os.remove(_path())
        except (OSError, ValueError, IndexError):
            pass
        _cause[0] = cause
    return _cause[0]


def reset_culprit():
    """Slot the kernel said was running when the watchdog fired (0xFF: none)."""
    reset_cause()
    return _cause[1]


def reset(cause=SOFT_RESET):
    write_cause(cause)
    raise SystemExit(EXIT_RESET)


class WDT:
    def __init__(self, timeout_ms, thread=True):
        self.timeout_ms = timeout_ms
        self.culprit = 0xFF
        self.fired = False
        self._deadline = ticks_add(ticks_ms(), timeout_ms)
        _active[0] = self
        if thread:
            import _thread

            _thread.start_new_thread(self._watch, ())

    def feed(self):
        self._deadline = ticks_add(ticks_ms(), self.timeout_ms)

    def _check(self):
        if self.fired or ticks_diff(ticks_ms(), self._deadline) <= 0:
            return
        self.expire()

    def expire(self):
        """Reset the board now with cause WDT_RESET (also the control op)."""
        self.fired = True
        write_cause(WDT_RESET, self.culprit)
        if on_expire is not None:
            on_expire(self)
            return
        os.system(KILL)

    def _watch(self):
        while not self.fired and _active[0] is self:
            self._check()
            sleep_ms(10)
