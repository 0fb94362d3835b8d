# heapsize: 320K
# Boot from a compiled app table: slot order, the supervisor first, regions
# carved, grants and badges, denied sends (E_DENIED + trace), heap and slice
# budgets, STATE records, the trace drained as frames, and a stale id.
import sys

import rig
from iso_util import frec, records, run_until, state

from keep import abi, kernel, trace
from runtime import boot

TMP = rig.scratch()

TABLE = """
from collections import namedtuple

TABLE_VERSION = 2
ABI_VERSION = 1
APP = 'isoboot'
BOARD = 'unix'
HAL = %r
MAX_MSG = 64
TRACE_RECORDS = 512
SUPERVISOR = (3, 10000, 0, 0, 0)
DISPOSITIONS = ('restart', 'hold', 'reboot')
E = None  # owns nothing
Task = namedtuple("Task", ("name", "module", "function", "priority", "disposition", "server",
                           "regions", "grants", "owns", "heap_budget", "slice_ms", "args"))
TASKS = (
    Task('supervisor', 'servers.supervisor', 'main', 0, 2, False, (), (), E, 0, 0, {}),
    Task('echo', 'iso_boot_app', 'echo', 1, 0, True, (('scratch', 256, True),), (), E, 0, 0, {}),
    Task('client', 'iso_boot_app', 'client', 2, 0, False, (('io', 512, True), ('ro', 256, False)),
     ((1, 7),), E, 0, 0, {'rounds': 3}),
    Task('rogue', 'iso_boot_app', 'rogue', 3, 1, False, (), (), E, 0, 0, {}),
    Task('hog', 'iso_boot_app', 'hog', 3, 1, False, (), ((1, 9),), E, 256, 0, {}),
    Task('spin', 'iso_boot_app', 'spin', 3, 1, False, (), (), E, 0, 5, {}),
)
""" % rig.hal_name()

APP = '''
from keep import abi
import time
seen = []


async def echo(k):
    while True:
        m = await k.recv()
        seen.append((m.sender & 0xFF, m.badge, m.op))
        await k.reply(m.call, 0, m.body[:m.len])


async def client(k, rounds):
    io = k.region("io")
    old = k.lookup("echo")
    for i in range(rounds):
        await k.send(old, 1, b"hi%d" % i)
        seen.append(("client", k.rc, k.reply_data()))
    seen.append(("regions", io.size, k.region("ro").writable))
    await k.sleep_ms(30)
    # echo was restarted meanwhile (injected below): the old id is stale
    await k.send(old, 1, b"x")
    seen.append(("stale", k.rc))
    await k.send(k.lookup("echo"), 2, b"y")
    seen.append(("fresh", k.rc))


async def rogue(k):
    await k.send(k.lookup("echo"), 1, b"no grant")
    seen.append(("rogue", k.rc))


async def hog(k):
    junk = []
    for i in range(20):
        junk.append(bytearray(64))
    await k.yield_()


async def spin(k):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < 20:
        pass
    await k.yield_()
'''

with open(TMP + "/iso_boot_table.py", "w") as f:
    f.write(TABLE)
with open(TMP + "/iso_boot_app.py", "w") as f:
    f.write(APP)
sys.path.insert(0, TMP)
import iso_boot_app  # noqa: E402


class Sink:
    def __init__(self):
        self.n = 0
        self.frames = 0

    def write(self, b, n=None):  # a stream's write(buf, max_len), as drain calls it
        n = len(b) if n is None else n
        self.n += n
        self.frames += 1
        return n


sink = Sink()
t = boot.load_table("iso_boot_table")
boot.setup(t, out=sink)
from runtime import drain  # noqa: E402

drain.reset(None)  # keep the records in the ring to look at them; drained at the end
# the boot-time half is dropped again once setup() returns
print("bootload dropped", "runtime.bootload" not in sys.modules, not hasattr(sys.modules["runtime"], "bootload"))
print("tasks", [kernel.tcb.name[s] for s in range(kernel.tcb.ntasks)])
print("boot", [(a, b & 0xFF, b >> 8) for _s, a, b in records(abi.TR_BOOT)])
print("states", [(s, a & 0xFF, a >> 8) for s, a, _b in records(abi.TR_STATE)])
held = []
trace_kinds = []


def watch():
    # run a little, then inject a fault into echo (restarted by the supervisor)
    trace_kinds.extend(r[0] for r in trace.records())


# Until the client has made its calls and started its 30 ms sleep (not a
# fixed 10 ms: on a loaded machine the tasks may not all have run by then).
for _ in range(400):
    kernel.run(duration_ms=5)
    if ("regions", 512, False) in iso_boot_app.seen:
        break
from keep import fault  # noqa: E402

fault.fault(1, abi.F_INJECTED, 0, "test")
# Until every task is where it ends (held, done, echo restarted and waiting):
# a time that is enough on the unix port is not on a board.
kernel.run(duration_ms=60)
run_until(lambda: [state(s) for s in range(6)] ==
          ["in_recv", "in_recv", "done", "done", "held", "held"], 3000)
watch()
for x in iso_boot_app.seen:
    if x[0] != "rogue":  # when it runs depends on timing; checked on its own below
        print(x)
for s in range(6):
    print(s, kernel.tcb.name[s], state(s), frec(s))
print("denied record", abi.TR_DENIED in trace_kinds, "budget records", trace_kinds.count(abi.TR_BUDGET))
drain.reset(sink)
drain.drain(64)
print("frames drained", sink.frames > 0, "bytes", sink.n > 100, "left", trace.pending())
print("grant-less send is E_DENIED", ("rogue", abi.E_DENIED) in iso_boot_app.seen)
