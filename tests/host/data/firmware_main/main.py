# A stand-in for firmware/main.py (keep/boot.py boots real apps): boots the
# deployed app table with a tiny restart-everything supervisor, drains the
# trace to the console and serves the console command channel.
import sys
import time

import app_table
from keep import abi, console, drain, kernel, svc, tcb

kernel.boot(max_msg=app_table.MAX_MSG, trace_records=app_table.TRACE_RECORDS)


async def supervisor(k):
    while True:
        await k.wait(abi.NOTE_FAULT)
        for s in range(tcb.ntasks):
            if tcb.state[s] == abi.ST_FAULTED and s != k.slot:
                await k.sleep_ms(10)
                k.sv_restart(s)


kernel.spawn(supervisor, prio=0, name="supervisor")
svc.set_supervisor(0)
for row in app_table.TASKS[1:]:
    mod = __import__(row[1], None, None, [row[2]])
    kernel.spawn(getattr(mod, row[2]), prio=row[3], name=row[0], args=row[11])
out = sys.stdout.buffer
drain.reset(out)
console.start(sink=out)


def tick():
    console.poll()
    drain.drain()


def idle(ms):
    tick()
    time.sleep_ms(1 if ms < 0 or ms > 1 else ms)


kernel.tick_hook = tick
kernel.idle_hook = idle
print("keep: kernel running,", tcb.ntasks, "tasks")
kernel.run()
