# send / recv / reply: copies, headers, sizes, ordering, badges.
from kt import boot, check, done, recs
from keep import abi, kernel, tcb

boot(max_msg=32)
seen = []


async def echo(k):
    while True:
        m = await k.recv()
        seen.append((m.op, m.len, bytes(m.buf[:4]), m.data(), m.badge))
        if m.op == 9:
            # Upper-case reply, exactly the body that arrived.
            await k.reply(m.call, 7, bytes(m.body[: m.len]).upper())
        else:
            await k.reply(m.call, 0)


async def client(k, srv):
    buf = bytearray(b"hello")
    r = await k.send(srv, 9, buf)
    check(r is k, "send returns the handle")
    check(r.rc == 7 and r.reply_data() == b"HELLO", "reply rc and data: %r %r" % (r.rc, r.reply_data()))
    check(bytes(r.rbuf()[:4]) == bytes([1, 7, 5, 0]), "reply header version/rc/len")
    buf[0] = ord("j")  # the server got a copy: changing ours now changes nothing
    check(seen[-1][3] == b"hello", "the server got a copy")
    check(seen[-1][2] == bytes([abi.MSG_VERSION, 9, 5, 0]), "message header version/op/len")
    r = await k.send(srv, 1)
    check(r.rc == 0 and r.rlen == 0 and seen[-1][1] == 0, "empty message")
    r = await k.send(srv, 9, bytes(32))
    check(r.rc == 7 and r.rlen == 32, "a message of exactly max_msg is fine")
    r = await k.send(srv, 9, bytes(33))
    check(r.rc == abi.E_TOOBIG and r.rlen == 0, "oversize send is E_TOOBIG, not truncated")
    check(seen[-1][1] == 32, "the oversize message never reached the server")
    r = await k.send(srv, 9, memoryview(b"xyzw")[1:3])
    check(r.reply_data() == b"YZ", "memoryview slices are sent as their bytes")
    check(seen[-1][4] == 0, "no manifest: badge 0")


srv = kernel.spawn(echo, 2, "echo")
kernel.spawn(client, 3, "client", (srv,))
kernel.run(until_idle=True)
sends = recs(abi.TR_SEND)
delivered = [r for r in sends if r[3] & abi.TR_DELIVERED]
# The server was always waiting: each delivered SEND stands for its RECV too.
check(len(sends) == 5 and len(delivered) == 4 and not recs(abi.TR_RECV), "send/recv traced")


# Oversize reply: E_TOOBIG to the server, the client still waits for a proper reply.
boot(max_msg=8)
got = []


async def big_server(k):
    m = await k.recv()
    rc = await k.reply(m.call, 0, bytes(9))
    got.append(rc)
    rc = await k.reply(m.call, 1, b"ok")
    got.append(rc)


async def caller(k, srv):
    r = await k.send(srv, 1)
    got.append((r.rc, r.reply_data()))


s = kernel.spawn(big_server, 1, "big")
kernel.spawn(caller, 2, "caller", (s,))
kernel.run(until_idle=True)
check(got == [abi.E_TOOBIG, 0, (1, b"ok")], "oversize reply is an error and can be retried: %r" % got)

# Queued clients: most important first, FIFO among equals.
boot()
order = []


async def slow_server(k):
    # Let every client queue up first: wait for their states, not for a
    # time (a board's collection can take longer than a few ms).
    while sum(1 for t in range(1, 5) if tcb.state[t] == abi.ST_IN_SEND) < 4:
        await k.sleep_ms(1)
    for _ in range(4):
        m = await k.recv()
        order.append(m.data())
        await k.reply(m.call)


async def c(k, srv, tag):
    await k.send(srv, 1, tag)


s = kernel.spawn(slow_server, 0, "srv")
kernel.spawn(c, 5, "c1", (s, b"low-1"))
kernel.spawn(c, 5, "c2", (s, b"low-2"))
kernel.spawn(c, 2, "c3", (s, b"high"))
kernel.spawn(c, 5, "c4", (s, b"low-3"))
kernel.run(until_idle=True)
check(order == [b"high", b"low-1", b"low-2", b"low-3"], "queue order: %r" % order)
# Queued messages are received later: each gets its own RECV record.
check(len(recs(abi.TR_RECV)) == 4 and not [r for r in recs(abi.TR_SEND) if r[3] & abi.TR_DELIVERED],
      "queued sends are traced at receive")

# A server may hold several messages and answer out of order.
boot()
answers = []


async def batcher(k):
    m = await k.recv()
    a = m.call
    m = await k.recv()
    b = m.call
    await k.reply(b, 2)
    await k.reply(a, 1)


async def asker(k, srv, n):
    r = await k.send(srv, n)
    answers.append((n, r.rc))


s = kernel.spawn(batcher, 1, "batcher")
kernel.spawn(asker, 2, "a1", (s, 10))
kernel.spawn(asker, 2, "a2", (s, 20))
kernel.run(until_idle=True)
check(sorted(answers) == [(10, 1), (20, 2)], "out-of-order replies reach the right clients: %r" % answers)
done()
