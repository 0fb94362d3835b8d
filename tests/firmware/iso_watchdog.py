# heapsize: 256K
# A task that never yields stops the supervisor's slices, so the watchdog is
# no longer fed and fires; the next boot reports which task was running (sim
# culprit). Also: Ctrl-C leaves the kernel for the REPL, safe boot skips it.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("lets the watchdog fire (a board's would reset it) and reads the reset-cause file")

import os
import sys
import time

from iso_util import frec, records

from keep import abi, kernel
from runtime import boot

import os as _os
import time as _time

TMP = "/tmp/keep_iso_%d" % _time.ticks_us()
_os.mkdir(TMP)

os.putenv("KEEP_SIM_STATE_DIR", TMP)
from hal.sim import wdt as sw  # noqa: E402
from hal.sim.world import CAUSE_FILE  # noqa: E402

TABLE = """
from collections import namedtuple

TABLE_VERSION = 2
ABI_VERSION = 1
APP = 'isowdt'
BOARD = 'unix'
HAL = 'sim'
MAX_MSG = 32
TRACE_RECORDS = 256
WDT_MS = 250
SUPERVISOR = (3, 10000, 0, 0, 0)
DISPOSITIONS = ('restart', 'hold', 'reboot')
E = None  # owns nothing
Task = namedtuple("Task", ("name", "module", "function", "priority", "disposition", "server",
                           "regions", "grants", "owns", "heap_budget", "slice_ms", "args"))
TASKS = (
    Task('supervisor', 'servers.supervisor', 'main', 0, 2, False, (), (), E, 0, 0, {}),
    Task('ticker', 'iso_wdt_app', 'ticker', 2, 0, False, (), (), E, 0, 0, {}),
    Task('stuck', 'iso_wdt_app', 'stuck', 3, 0, False, (), (), E, 0, 0, {}),
)
"""
APP = '''
import time
state = {"ticks": 0, "spin_ms": 0}


async def ticker(k):
    while True:
        state["ticks"] += 1
        await k.sleep_ms(5)


async def stuck(k):
    await k.sleep_ms(100)  # 100 ms of healthy running first
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < state["spin_ms"]:
        pass  # never yields
    if state["spin_ms"] == 0:
        raise KeyboardInterrupt  # what Ctrl-C on the console does
    await k.sleep_ms(10000)
'''
with open(TMP + "/iso_wdt_table.py", "w") as f:
    f.write(TABLE)
with open(TMP + "/iso_wdt_app.py", "w") as f:
    f.write(APP)
sys.path.insert(0, TMP)
import iso_wdt_app  # noqa: E402

try:
    os.remove(TMP + "/" + CAUSE_FILE)
except OSError:
    pass
fired = []
sw.on_expire = fired.append  # observe instead of killing the process
# spins well past the timeout: a loaded host may stall this process for a
# while, and the watchdog (a wall-clock thread on the unix port) must still
# find the spinning task, not a healthy one descheduled
iso_wdt_app.state["spin_ms"] = 900


class Null:
    def write(self, b, n=None):  # a stream's write(buf, max_len), as drain calls it
        return len(b) if n is None else n


t = boot.load_table("iso_wdt_table")
boot.setup(t, out=Null())
print("watchdog", boot.wdt is not None, boot.wdt.timeout_ms)
kernel.run(duration_ms=300)
print("fed while healthy, then fired once", len(fired) == 1, iso_wdt_app.state["ticks"] > 5)
sw._active = None  # stop the watchdog thread (a real reset would)
with open(TMP + "/" + CAUSE_FILE) as f:
    print("cause file", f.read().strip())

# ---- the next boot ---------------------------------------------------------------
sw._cause = None
sw._culprit = 0xFF
iso_wdt_app.state["spin_ms"] = 0
boot.setup(t, out=Null(), wdt_ms=0)
print("boot record", [(b & 0xFF, b >> 8) for _s, _a, b in records(abi.TR_BOOT)])
print("culprit", boot.boot_culprit, kernel.tcb.name[boot.boot_culprit], frec(boot.boot_culprit))
print("watchdog fault record", [(s, a & 0xFF) for s, a, _b in records(abi.TR_FAULT)])

# ---- Ctrl-C: KeyboardInterrupt leaves the kernel cleanly ----------------------------
t0 = time.ticks_ms()
ok = boot.main(t, out=Null(), wdt_ms=0)
print("main returned", ok, "after the task's 100 ms", time.ticks_diff(time.ticks_ms(), t0) >= 90)
print("kernel idle after", kernel.tcb.cur, kernel.running[0])

# ---- safe boot -------------------------------------------------------------------------
cwd = os.getcwd()
os.chdir(TMP)
with open(boot.SAFEBOOT_FILE, "w") as f:
    f.write("")
print("safe boot skips", boot.start("iso_wdt_table"))
os.remove(boot.SAFEBOOT_FILE)
print("no safe boot", boot.safe_boot())
os.chdir(cwd)
print("bad table", boot.start("no_such_table"))
