# A send that would close a cycle of waiting tasks fails at once with E_DEADLOCK.
from kt import boot, check, done, recs
from keep import abi, kernel

boot()
got = {}


async def a(k):
    # Serve one request from b by calling b back: b waits for our reply, so this closes a cycle.
    m = await k.recv()
    r = await k.send(m.sender, 1)
    got["a->b"] = r.rc
    await k.reply(m.call, 0)


async def b(k, a_id):
    r = await k.send(a_id, 1)
    got["b->a"] = r.rc


async def selfish(k):
    r = await k.send(k.id(), 1)
    got["self"] = r.rc


ta = kernel.spawn(a, 2, "a")
tb = kernel.spawn(b, 3, "b", (ta,))
kernel.spawn(selfish, 4, "selfish")
kernel.run(until_idle=True)
check(got == {"a->b": abi.E_DEADLOCK, "b->a": 0, "self": abi.E_DEADLOCK}, "two-task and self cycles: %r" % got)
dl = recs(abi.TR_DEADLOCK)
check(len(dl) == 2 and dl[0][1] == ta and dl[0][2] == tb, "deadlock trace records: %r" % dl)

# Three servers in a ring: x -> y -> z -> x.
boot()
rcs = []


async def hop(k, name, nxt, first):
    if first:
        r = await k.send(k.lookup(nxt), 1)
        rcs.append((name, r.rc))
        return
    m = await k.recv()
    r = await k.send(k.lookup(nxt), 1)
    rcs.append((name, r.rc))
    await k.reply(m.call)


kernel.spawn(hop, 3, "y", ("y", "z", False))
kernel.spawn(hop, 3, "z", ("z", "x", False))
kernel.spawn(hop, 3, "x", ("x", "y", True))
kernel.run(until_idle=True)
check(("z", abi.E_DEADLOCK) in rcs and ("x", 0) in rcs and ("y", 0) in rcs,
      "three-task cycle refused where it would close, the rest completes: %r" % rcs)
done()
