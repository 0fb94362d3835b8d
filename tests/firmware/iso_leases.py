# heapsize: 192K
# (a fragmentation edge of the unix port compiling the kernel from source:
# after the syscall surface moved into keep/task.py, 160K and 168K leave no
# free 4 KB run for mem.init; 172K..256K in 4K steps pass)
# Leases: a client lends a slice of its region for one call; the server's
# access is bounds- and permission-checked and ends at the reply. Using a
# lease after the reply, writing through a read-only lease, or using one
# that was granted to another server is a memory fault of the task using it.
from iso_util import boot, show, state

from keep import abi, kernel, mem

boot()
mem.init(4096, "sim")
out = []
kept = {}

OP_FILL = 1  # server writes its message byte across the lease
OP_SUM = 2  # server reads the lease and replies with the byte sum
OP_KEEP = 3  # server keeps the lease to use after the reply (a bug)
OP_RO_WRITE = 4  # server writes through the lease (fine if writable)
OP_BIG = 5  # server reads past the lease's end


async def server(k):
    buf = bytearray(32)
    while True:
        m = await k.recv()
        ls = m.lease
        if m.op == OP_FILL:
            v = m.body[0]
            for i in range(ls.len):
                buf[i % 32] = v
            off = 0
            while off < ls.len:
                n = min(32, ls.len - off)
                ls.write(off, buf, n)
                off += n
            await k.reply(m.call, 0)
        elif m.op == OP_SUM:
            t = 0
            off = 0
            while off < ls.len:
                n = min(32, ls.len - off)
                ls.read(off, n, buf)
                for i in range(n):
                    t += buf[i]
                off += n
            await k.reply(m.call, 0, bytes((t & 0xFF, t >> 8)))
        elif m.op == OP_KEEP:
            kept["lease"] = ls
            while "seen" not in kept:  # the thief tries it meanwhile: its fault, not ours
                await k.sleep_ms(1)  # (its step, not a time: a board's GC may take 3 ms)
            await k.reply(m.call, 0)
            out.append(("srv after reply", ls.state))
            ls.read(0, 1)  # after the reply: memory fault of this server
        elif m.op == OP_RO_WRITE:
            ls.write(0, b"!")
            await k.reply(m.call, 0)
        elif m.op == OP_BIG:
            ls.read(0, ls.len + 1)
        else:
            await k.reply(m.call, abi.E_NOTSUP)


async def client(k, srv, srv2):
    r = k.region("io")
    r.fill(0)
    lease = r.lease(16, 64, True)
    await k.send(srv, OP_FILL, b"\x07", lease=lease)
    out.append(("fill", k.rc, r.read(14, 4), r.read(78, 4), lease.state))
    try:
        lease.read(0, 1)  # the client cannot use its own lease as a server
    except mem.MemoryFault:
        pass
    out.append(("client caught its fault; still faulted", state(k.slot)))


async def client2(k, srv):
    r = k.region("io")
    r.write(0, bytes(range(100)))
    lease = r.lease(0, 100)
    await k.send(srv, OP_SUM, None, lease=lease)
    out.append(("sum", k.rc, k.reply_data()))
    # a lease can be re-armed for the next call (no allocation)
    r.lease(0, 10, False, reuse=lease)
    await k.send(srv, OP_SUM, None, lease=lease)
    out.append(("sum10", k.rc, k.reply_data()))
    # read-only lease written by the server: the server faults, we get E_DEAD
    r.lease(0, 4, False, reuse=lease)
    await k.send(srv, OP_RO_WRITE, None, lease=lease)
    out.append(("ro write", k.rc, r.read(0, 2), lease.state))
    # the first server is gone; the second one keeps the lease after replying
    await k.send(k.lookup("srv2"), OP_KEEP, None, lease=r.lease(0, 4, True))
    out.append(("keep", k.rc))
    await k.sleep_ms(2)
    # a lease lent to srv2 but used by srv3 (handed over by a global)
    await k.send(k.lookup("srv3"), OP_BIG, None, lease=r.lease(0, 8))
    out.append(("big", k.rc))
    # a lease that is not ours: faults us
    await k.send(k.lookup("srv2"), OP_SUM, None, lease=kept["other"])
    out.append("client2 not reached")


async def other(k):
    kept["other"] = k.region("io").lease(0, 4)
    await k.sleep_ms(100)


async def thief(k):
    while "lease" not in kept:
        await k.sleep_ms(1)
    out.append(("thief sees", kept["lease"].state))
    kept["seen"] = 1
    kept["lease"].read(0, 1)


R = (("io", 256, True),)
s1 = kernel.spawn(server, 1, "srv")
s2 = kernel.spawn(server, 1, "srv2")
s3 = kernel.spawn(server, 1, "srv3")
kernel.spawn(client, 2, "client", args=(s1, s2), regions=R)
kernel.spawn(client2, 3, "client2", args=(s1,), regions=R)
kernel.spawn(other, 4, "other", regions=R)
kernel.spawn(thief, 4, "thief")
kernel.run(until_idle=True)
show(out, 7)
