# Task ids carry a generation: stale ids fail with E_DEAD, unknown ones fault.
from kt import boot, check, done, state
from keep import abi, fault, kernel, tcb

boot()
log = []


async def server(k):
    while True:
        m = await k.recv()
        await k.reply(m.call, 1)


async def client(k, old):
    r = await k.send(old, 1)
    log.append(("old", r.rc))
    r = await k.send(k.lookup("server"), 1)
    log.append(("new", r.rc))
    await k.send(7, 1)  # slot 7 never held a task: a fault
    log.append("not reached")


srv = kernel.spawn(server, 1, "server")
check(srv == 0 and kernel.tid(0) == 0, "first id is slot 0, generation 0")
kernel.run(until_idle=True)
new = kernel.restart(0)
check(new == 1 << 8 | 0 and tcb.gen[0] == 1 and tcb.restarts[0] == 1, "restart bumps the generation")
c = kernel.spawn(client, 2, "client", (srv,))
kernel.run(until_idle=True)
check(log == [("old", abi.E_DEAD), ("new", 1)], "stale id E_DEAD, fresh id served: %r" % log)
check(state(c) == "faulted" and fault.records[c].kind == abi.F_NOTASK, "unknown id faults the sender")
check(kernel.lookup("nobody") == -1, "lookup of an unknown name")
check(state(0) == "in_recv", "the server kept running")
done()
