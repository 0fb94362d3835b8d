# heapsize: 256K
# The supervisor's policy: a crash loop restarts with doubling back-off and
# is then held as flapping; disposition hold leaves a task stopped;
# disposition reboot resets the board (simulated); a hung server (clients
# queued, no recv for heartbeat_ms) is restarted; the back-off starts over
# after a quiet window; the quiet path allocates nothing.
import time

import micropython
from iso_util import boot, drain_logs, frec, state

from keep import kernel, svc, tcb
from servers import supervisor as sv

starts = {}
stamps = []


async def crasher(k):
    starts["crasher"] = starts.get("crasher", 0) + 1
    stamps.append(time.ticks_ms())
    raise ValueError("boom")


async def once(k):
    starts["once"] = starts.get("once", 0) + 1
    if starts["once"] == 1:
        raise ValueError("first time only")
    await k.sleep_ms(1000)


async def holder(k):
    raise OSError(5)


async def idle(k):
    await k.sleep_ms(1000)


def run_case(tasks, ms, **policy):
    boot()
    reboots = []
    policy.setdefault("reboot", lambda: reboots.append(1))
    kernel.spawn(sv.main, 0, "supervisor",
                 args=dict(dispositions=[0] + [t[2] for t in tasks], **policy))
    svc.set_supervisor(0)
    for fn, name, _d in tasks:
        kernel.spawn(fn, 2, name)
    kernel.run(duration_ms=ms)
    return reboots


# ---- crash loop: back-off 2, 4, 8, 8 ms, then held as flapping ---------------
run_case([(crasher, "crasher", 0)], 400, flap_restarts=4, flap_window_ms=1000,
         backoff_ms=2, backoff_max_ms=8)
print("crasher starts", starts["crasher"], "state", state(1), "restarts", tcb.restarts[1])
gaps = [time.ticks_diff(stamps[i + 1], stamps[i]) for i in range(len(stamps) - 1)]
print("gaps at least the back-off", all(gaps[i] >= (2, 4, 8, 8)[i] for i in range(4)))
for _s, line in drain_logs(0):
    print(line)
print(sorted(sv.stats.items()))

# ---- zero back-off: restarted at once; quiet window resets the back-off ------
starts.clear()
run_case([(once, "once", 0)], 30, backoff_ms=0, backoff_max_ms=0)
print("once starts", starts["once"], state(1), frec(1))
drain_logs()

# ---- disposition hold and reboot ------------------------------------------------
starts.clear()
reboots = run_case([(holder, "holder", 1), (idle, "idle", 0)], 20)
print("holder", state(1), frec(1), "idle", state(2), "reboots", reboots)
for _s, line in drain_logs(0):
    print(line)
reboots = run_case([(holder, "fatal", 2), (idle, "idle", 0)], 20)
print("fatal reboots", reboots, sv.stats["reboots"])
for _s, line in drain_logs(0):
    print(line)


# ---- the real HAL reboot on the unix port: SystemExit(3), cause recorded -------
def hal_reboot():
    import hal

    hal.load("sim").reset()


try:
    run_case([(holder, "fatal", 2)], 20, reboot=hal_reboot)
    print("no reset?!")
except SystemExit as e:
    from hal.sim import wdt as sw

    sw._cause = None
    print("board reset, exit status", e.args[0], "next boot cause",
          __import__("hal").RESET_NAMES[sw.reset_cause()])
drain_logs()

# ---- heartbeat: a server that stops calling recv while clients queue -------------
served = []


async def lazy_server(k):
    starts["lazy"] = starts.get("lazy", 0) + 1
    while True:
        m = await k.recv()
        served.append(starts["lazy"])
        await k.reply(m.call, 0)
        if starts["lazy"] == 1 and len(served) == 2:
            await k.sleep_ms(10000)  # stuck: no more recv


async def busy_client(k):
    rcs = []
    for i in range(4):
        await k.send(k.lookup("lazy"), 1, timeout_ms=500)
        rcs.append(k.rc)
    print("client rcs", rcs)


async def second_client(k):
    await k.sleep_ms(5)
    await k.send(k.lookup("lazy"), 1, timeout_ms=500)
    print("second client rc", k.rc)


boot()
kernel.spawn(sv.main, 0, "supervisor",
             args=dict(dispositions=[0, 0, 0, 0], servers=(1,), heartbeat_ms=40, backoff_ms=0))
svc.set_supervisor(0)
kernel.spawn(lazy_server, 1, "lazy")
kernel.spawn(busy_client, 2, "client")
kernel.spawn(second_client, 2, "client2")
kernel.run(duration_ms=300)
print("served by instance", served, "hung", sv.stats["hung"], "restarts", sv.stats["restarts"])
print("lazy", state(1), frec(1))
for _s, line in drain_logs(0):
    print(line.split(" for ")[0])

# ---- the quiet path allocates nothing ------------------------------------------
# Wake-ups every 5 ms with a restart waiting out its back-off and a server
# under heartbeat watch, all under micropython.heap_lock(): an allocation
# would fault the supervisor (slot 0), which the kernel cannot survive.
locked = []


async def locker(k):
    await k.recv(timeout_ms=50)  # the crasher faulted, the supervisor decided
    micropython.heap_lock()
    try:
        await k.recv(timeout_ms=200)
    finally:
        micropython.heap_unlock()
    locked.append(1)


boot()
kernel.spawn(sv.main, 0, "supervisor",
             args=dict(dispositions=[0, 0, 0, 0], servers=(2,), heartbeat_ms=20, period_ms=5,
                       backoff_ms=10000))
svc.set_supervisor(0)
kernel.spawn(crasher, 2, "crasher")
kernel.spawn(idle, 2, "idle")
kernel.spawn(locker, 2, "locker")
kernel.run(duration_ms=300)
print("heap-locked quiet path", locked, "supervisor", state(0), frec(0), "crasher", state(1))
drain_logs()
