# The heap of a deployed app on its board, in the parts that the board
# file's kernel_bytes and task_overhead_bytes estimate (docs/manifest.md,
# "Heap fit"). Run by bench/pico_bench.py on the emulated Pico, where the
# chaos app is deployed (keep deploy --no-boot); prints one JSON line:
#
#   modules_bytes  the live heap the firmware's modules take once imported:
#                  the kernel, the HAL, the servers and the clients the
#                  tasks import (as .mpy files their code is in the heap)
#   app_modules_bytes  the same for the app's own modules (apps.NAME.*)
#   setup_bytes    what runtime.boot.setup adds to that: the kernel's tables,
#                  the trace ring, and per task a Handle, its Msg and
#                  buffers, its coroutine (the frame of its entry function)
#   running_bytes  the live heap after the kernel ran RUN_MS, less the two
#                  above: what the tasks allocate for themselves once
#                  started, the console channel
#   tasks          tasks spawned, the supervisor included
#   max_msg, trace_records  the table's
#
# Every figure is gc.mem_alloc() after gc.collect(): exact on a board.
import gc
import json

RUN_MS = 3000


class NullSink:
    """The console, minus the console: trace frames are discarded."""

    def write(self, buf, n=-1):
        return n


gc.collect()
a0 = gc.mem_alloc()
from keep import kernel, tcb  # noqa: E402,F401  (console: started on the first tick)
from runtime import boot, console  # noqa: E402,F401  (console: started on the first tick)

t = boot.load_table("app_table")
for row in t.TASKS:
    if not row[1].startswith("apps."):
        __import__(row[1])
__import__("hal." + t.HAL)
gc.collect()
a_fw = gc.mem_alloc()
for row in t.TASKS:
    __import__(row[1])
gc.collect()
a1 = gc.mem_alloc()
boot.setup(t, out=NullSink())
gc.collect()
a2 = gc.mem_alloc()
kernel.run(duration_ms=RUN_MS)
gc.collect()
a3 = gc.mem_alloc()
print(json.dumps({"modules_bytes": a_fw - a0, "app_modules_bytes": a1 - a_fw, "setup_bytes": a2 - a1, "running_bytes": a3 - a2,
                  "tasks": tcb.ntasks, "max_msg": t.MAX_MSG, "trace_records": t.TRACE_RECORDS}))
