# The trace ring records every kind of kernel event, in order.
from kt import boot, check, done, kinds, recs
from keep import abi, kernel, trace

boot(trace_records=256)


async def srv(k):
    m = await k.recv()
    await k.reply(m.call, 3, b"ok")
    m = await k.recv(2)  # times out


async def cli(k, s):
    await k.log("hello from the client")
    await k.send(s, 7, b"abc")
    await k.notify(s, 4)
    await k.sleep_ms(5)
    raise RuntimeError("deliberate")


s = kernel.spawn(srv, 1, "srv")
c = kernel.spawn(cli, 2, "cli", (s,))
kernel.run(until_idle=True)
ks = kinds()
for want in ("boot", "switch", "send", "reply", "notify", "timeout", "fault", "log", "text"):
    check(want in ks, "trace has a %s record" % want)
send = recs(abi.TR_SEND)[0]
check(send[1] == c and send[2] == s | 7 << 8 and send[3] == 3 | abi.TR_DELIVERED,
      "send record: slot, dest|op<<8, length, delivered at once %r" % (send,))
rep = recs(abi.TR_REPLY)[0]
check(rep[1] == s and rep[2] == c | 3 << 8 and rep[3] == 2, "reply record: client|rc<<8, length %r" % (rep,))
sw = recs(abi.TR_SWITCH)
check(sw[0][1] == s and sw[1][1] == c, "switch records name the task that runs")
f = recs(abi.TR_FAULT)[0]
check(f[1] == c and f[2] & 0xFF == abi.F_EXCEPTION and f[2] >> 8 == abi.ST_RUNNABLE, "fault record")

# LOG text survives the ring intact.
text = b""
records = trace.records()
for i, r in enumerate(records):
    if r[0] == abi.TR_LOG and r[1] == c:
        n = r[2]
        o = ((trace.st[trace.HEAD] + i) % trace.st[trace.CAP]) * 8
        j = 1
        while len(text) < n:
            o2 = ((trace.st[trace.HEAD] + i + j) % trace.st[trace.CAP]) * 8
            text += bytes(trace.ring[o2 + 1:o2 + 8])
            j += 1
        text = text[:n]
        break
check(text == b"hello from the client", "log text: %r" % text)

# Full ring: records are dropped, never overwritten, and the count is kept.
trace.init(4)
for i in range(10):
    trace.write(abi.TR_SYSCALL, 1, i, 0)
check([r[2] for r in trace.records()] == [0, 1, 2, 3], "oldest records kept")
check(trace.take_dropped() == 6 and trace.take_dropped() == 0, "dropped count taken once")
trace.release(2)
trace.write(abi.TR_SYSCALL, 1, 99, 0)
check([r[2] for r in trace.records()] == [2, 3, 99], "ring wraps after release")
done()
