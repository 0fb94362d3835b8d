# The servers' allocation-free paths stay so: gpio READ / WRITE / TOGGLE
# (replies through the server's reply half), an edge forwarded as a
# notification, and spi POLL (its status byte in the reply half too), all
# under micropython.heap_lock(), on the rig (tests/firmware/lib/rig.py): the
# writes to PIN_OUT are PIN_IN's edges. An allocation in a server raises
# MemoryError there, and the fault it causes cannot be recorded with the
# heap locked: the test stops with a traceback instead of its output.
# (No rights tables here: a badge looked up by its string key allocates.)
import micropython

import rig
from keep import kernel
from servers import gpio, spi

N = 20
rig.connect(4096)
kernel.boot(max_msg=32, trace_records=512)
kernel.spawn(gpio.main, 1, "gpio", {"owns": {"pins": (rig.PIN_OUT, rig.PIN_IN)}})
kernel.spawn(spi.main, 1, "spi", {"owns": {"spi": ((rig.FLASH_BUS, rig.FLASH_CS),)}})
res = {}


async def client(k):
    g = k.lookup("gpio")
    s = k.lookup("spi")
    o = rig.PIN_OUT
    read, write1, write0, toggle = bytes((o,)), bytes((o, 1)), bytes((o, 0)), bytes((o,))
    poll = b"\x05\x01\x00\x0a\x00"  # NOR status until not busy, 10 ms
    await k.send(g, 2, write0)
    await k.send(g, 5, bytes((rig.PIN_IN, 3, 5)))  # SUBSCRIBE, both edges, bit 5
    for locked in (False, True):  # a first round unlocked: first uses may allocate
        if locked:
            micropython.heap_lock()
        try:
            ok = 0
            for i in range(N):
                ok += (await k.send(g, 2, write1 if i & 1 else write0)).rc == 0
                ok += (await k.send(g, 3, toggle)).rlen == 1  # an edge on PIN_IN
                ok += (await k.send(g, 1, read)).rbody[0] == (i & 1) ^ 1
                ok += (await k.wait(1 << 5, 100)).bits == 1 << 5  # forwarded by the server
                ok += (await k.send(s, 3, poll)).rc == 0
        finally:
            if locked:
                micropython.heap_unlock()
        res[locked] = ok
    res["level"] = (await k.send(g, 1, read)).rbody[0]
    kernel.stop()


kernel.spawn(client, 2, "client")
kernel.run(duration_ms=2000)
print("checks passed (unlocked, locked):", res[False], res[True], "of", 5 * N)
print("pin out level", res["level"])
print("faults", len(kernel.fault.records))
