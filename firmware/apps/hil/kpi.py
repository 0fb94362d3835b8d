"""hil: kernel scenarios the trace must show.

Priority inheritance (pi_hi 2, pi_mid 4, pi_lo 6): on bit 0, pi_mid spins
(yield_ in a loop, always runnable) for spin_ms; pi_hi sleeps 20 ms, then
calls pi_lo, which takes ten slices to answer. Without inheritance pi_lo
(6) would wait behind pi_mid (4) for the whole spin; with it, pi_lo runs
at pi_hi's priority and the reply comes within a few ms. pi_hi logs
`pi: hi served in N ms`, pi_mid `pi: mid spun N ms`.

Deadlock (dl_a, dl_b): a request to dl_a makes it call dl_b, which calls
dl_a back: a cycle the kernel refuses with E_DEADLOCK and a `deadlock`
trace record. dl_b replies with that rc, dl_a passes it on.

The manifest forbids both shapes on purpose (a send to a less important
server; a send cycle), so pi_hi and dl_b add their grant at run time, as
only test code should (docs/isolation.md: the honest limit).
"""

import time

from keep import caps


def _grant(k, name):
    peer = k.lookup(name) & 0xFF
    if caps.grants is not None:
        caps.grants[k.slot][peer] = 1


async def pi_hi(k):
    _grant(k, "pi_lo")
    while True:
        await k.wait(1)
        await k.sleep_ms(20)
        t0 = time.ticks_ms()
        r = await k.send(k.lookup("pi_lo"), 1, None, None, 2000)
        await k.log("pi: hi served in %d ms rc=%d" % (time.ticks_diff(time.ticks_ms(), t0), r.rc))


async def pi_mid(k, spin_ms=300):
    while True:
        await k.wait(1)
        t0 = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), t0) < spin_ms:
            await k.yield_()
        await k.log("pi: mid spun %d ms" % time.ticks_diff(time.ticks_ms(), t0))


async def pi_lo(k):
    while True:
        m = await k.recv()
        for _ in range(10):
            await k.yield_()
        await k.reply(m.call, 0)


async def dl_a(k):
    while True:
        m = await k.recv()
        r = await k.send(k.lookup("dl_b"), 1, None, None, 500)
        await k.reply(m.call, 0, bytes((r.rc & 0xFF,)))


async def dl_b(k):
    _grant(k, "dl_a")
    while True:
        m = await k.recv()
        r = await k.send(k.lookup("dl_a"), 1, None, None, 500)
        await k.log("dl: dl_b -> dl_a rc=%d" % r.rc)
        await k.reply(m.call, r.rc)
