"""N Keep round trips for callgrind (MicroPython): bench/callgrind.py runs it.

The exchange of bench/kernel_bench.py (16-byte request and reply, checks,
trace and drain on, two tasks of one priority), made deterministic: the
drain runs every 16 round trips from the client instead of on the 5 ms
tick (under valgrind, wall time, and with it the number of drains, moves
with the host's load), and the tick hook is a no-op so the loop's
per-slice tick check still runs.

    micropython roundtrip_mp.py N [direct]

`direct` gives the server the higher priority, so it always waits in recv
and each message is handed over at send (the other path of the send syscall, keep/task.py).
"""

import sys

from keep import kernel, tcb
from runtime import drain

DATA = b"0123456789abcdef"


class NullSink:
    """The console, minus the console: frames are encoded, then discarded."""

    def write(self, buf, n=-1):
        return n


def nothing():
    pass


async def server(k):
    while True:
        m = await k.recv()
        await k.reply(m.call, 0, DATA)


async def old_server(k):
    """For a kernel from before issue 13 (bench/callgrind.py --firmware):
    reply() took the client's task id then."""
    while True:
        m = await k.recv()
        await k.reply(m.sender, 0, DATA)


async def client(k, srv, n):
    d = drain.drain
    for i in range(n):
        await k.send(srv, 1, DATA)
        if not i & 15:
            d()
    kernel.stop()


def main():
    n = int(sys.argv[1])
    kernel.boot(max_msg=64, trace_records=256)
    drain.reset(NullSink())
    kernel.tick_hook = nothing
    srv = server if hasattr(tcb, "held") else old_server
    s = kernel.spawn(srv, 1 if "direct" in sys.argv[2:] else 2, "server")
    kernel.spawn(client, 2, "client", (s, n))
    kernel.run()
    print("round trips", n)


main()
