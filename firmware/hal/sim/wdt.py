"""Simulated watchdog, reset and reset cause for the virtual board.

The virtual board's "reset" ends the unix process; the process that runs
it (keep vboard) starts a new one, as a chip would reboot. What caused the
reset is written first to a small file, `.keep_reset_cause` in the board's
flash directory (KEEP_SIM_STATE_DIR, default the working directory), as
"<cause> <culprit>"; the next boot's reset_cause() reads and removes it.
No file means the board was just powered on (PWRON_RESET).

- reset(): writes SOFT_RESET (what an ESP32 reports after machine.reset())
  and raises SystemExit(3); exit status 3 tells the vboard to restart the
  board.
- WDT(timeout_ms): if not fed within timeout_ms, expire() writes WDT_RESET
  with `culprit` (the kernel sets it to the slot that was running) and
  kills the process with SIGKILL, from a watchdog thread, so even a task
  that never yields is caught, as on hardware. hal.sim.poll() checks it
  too. Tests may set `on_expire` to a function to observe expiry instead.

Names the host and tests need but the board does not (the file's name,
the exit status) are constants here and public in hal.sim.world: on the
board every module global costs a dict slot.

Invariants:
- feed() allocates nothing.
- A cause is read once per boot and then forgotten, so a later power-on
  (no file) is never mistaken for a watchdog reset.
"""

import os
import time

from micropython import const

_EXIT_RESET = const(3)  # process exit status meaning "reboot me" (world.EXIT_RESET)
_CAUSE_FILE = const(".keep_reset_cause")  # world.CAUSE_FILE
_PWRON_RESET = const(1)  # hal.PWRON_RESET
_WDT_RESET = const(3)  # hal.WDT_RESET
_SOFT_RESET = const(5)  # hal.SOFT_RESET

_cause = None  # the reset cause this boot, once read
_culprit = 0xFF  # and the slot the kernel said was running
on_expire = None  # test hook: called (wdt) instead of killing the process
_active = None  # the running WDT (one per chip)


def _path(name):
    """File `name` in the board's state directory."""
    d = os.getenv("KEEP_SIM_STATE_DIR")
    return (d + "/" if d else "") + name


def write_cause(cause, culprit):
    with open(_path(_CAUSE_FILE), "w") as f:
        f.write("%d %d\n" % (cause, culprit))


def reset_cause():
    global _cause, _culprit
    if _cause is None:
        cause = _PWRON_RESET
        try:
            with open(_path(_CAUSE_FILE)) as f:
                parts = f.read().split()
            cause = int(parts[0])
            _culprit = int(parts[1]) if len(parts) > 1 else 0xFF
            os.remove(_path(_CAUSE_FILE))
        except (OSError, ValueError, IndexError):
            pass
        _cause = cause
    return _cause


def reset_culprit():
    """Slot the kernel said was running when the watchdog fired (0xFF: none)."""
    reset_cause()
    return _culprit


def reset():
    write_cause(_SOFT_RESET, 0xFF)
    raise SystemExit(_EXIT_RESET)


def expire(w):
    """Reset the board now with cause WDT_RESET, as watchdog w (None: no
    watchdog runs, culprit 0xFF) would; also the control op `wdt`."""
    culprit = 0xFF
    if w is not None:
        w.fired = True
        culprit = w.culprit
    write_cause(_WDT_RESET, culprit)
    if on_expire is not None:
        on_expire(w)
        return
    os.system("kill -9 $PPID")  # the unix port has no os._exit; end the process like a chip reset


class WDT:
    def __init__(self, timeout_ms, thread=True):
        global _active
        self.timeout_ms = timeout_ms
        self.culprit = 0xFF
        self.fired = False
        self._deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        _active = self
        if thread:
            import _thread

            _thread.start_new_thread(self._watch, ())

    def feed(self):
        self._deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)

    def _check(self):
        if self.fired or time.ticks_diff(time.ticks_ms(), self._deadline) <= 0:
            return
        expire(self)

    def _watch(self):
        while not self.fired and _active is self:
            self._check()
            time.sleep_ms(10)
