"""TEST-ONLY stand-in for the supervisor (servers/supervisor.py is the iso
engineer's): restarts every faulted task at once, counts restarts.

    from stub_sup import supervisor, restarts
    kernel.spawn(supervisor, prio=0, name="supervisor")   # slot 0
"""

from keep import abi, svc, tcb

restarts = [0]


async def supervisor(k, backoff_ms=0):
    svc.set_supervisor(k.slot)
    while True:
        await k.wait(abi.NOTE_FAULT)
        if backoff_ms:
            await k.sleep_ms(backoff_ms)
        for s in range(tcb.ntasks):
            if s != k.slot and tcb.state[s] == abi.ST_FAULTED:
                k.sv_restart(s)
                restarts[0] += 1
