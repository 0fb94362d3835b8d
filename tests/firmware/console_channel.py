# The console command channel inside one process: requests come in on a
# file (pollable like stdin), replies go to a list, the kernel keeps running.
import json
import os
import time

import micropython

from kt import boot, check, done
from keep import abi, conreq, console, fault, kernel, tcb

boot(max_msg=32)


async def echo(k):
    while True:
        m = await k.recv()
        if m.op == 2:
            await k.reply(m.sender, 5, bytes(m.body[: m.len]).upper())
        else:
            await k.reply(m.sender, abi.E_NOTSUP)


ticks = [0]


async def ticker(k):
    while True:
        ticks[0] += 1
        await k.sleep_ms(2)


class Sink:
    def __init__(self):
        self.lines = []

    def write(self, b):
        self.lines.append(bytes(b))


kernel.spawn(echo, prio=1, name="echo")
kernel.spawn(ticker, prio=3, name="ticker")
path = "/tmp/keep_console_%d.bin" % time.ticks_us()
w = open(path, "wb")
r = open(path, "rb")
sink = Sink()
proxy = console.start(stream_in=r, sink=sink)
check(proxy == 2 and tcb.name[2] == "console", "proxy spawned in the next slot")


def idle(ms):
    console.poll()
    time.sleep_ms(1)


kernel.tick_hook = console.poll
kernel.idle_hook = idle


def req(seq, text, crc=None):
    body = ("?%04x %s" % (seq, text)).encode()
    c = conreq.crc16(body) if crc is None else crc
    w.write(b"noise typed at the console\n\x1f" + body + ("*%04x\n" % c).encode())
    w.flush()


def replies():
    out = {}
    for line in sink.lines:
        check(line[0] == 0x1F and line[1] == ord("=") and line.endswith(b"\n"), "reply framing %r" % line)
        star = line.rfind(b"*")
        check(int(line[star + 1:-1], 16) == conreq.crc16(line[1:star]), "reply crc")
        seq, js = line[2:star].decode().split(" ", 1)
        out[int(seq, 16)] = json.loads(js)
    return out


check(conreq.crc16(b"123456789") == 0x29B1, "CRC-16/CCITT-FALSE check value")
req(1, "ping")
req(2, "tasks")
req(3, "hold ticker")
req(4, "hold nosuch")
req(5, "ping", crc=0x1234)  # damaged: dropped, not answered
req(6, "frobnicate x")
kernel.run(duration_ms=60)
rep = replies()
check(rep[1]["ok"] and rep[1]["ntasks"] == 3 and rep[1]["proxy"] == 2, "ping %r" % rep.get(1))
rows = rep[2]["tasks"]
check([x[1] for x in rows] == ["echo", "ticker", "console"], "task names")
check(rows[0][2] == abi.ST_IN_RECV and rows[0][3] == 1 and rows[0][5] == 0, "echo row %r" % rows[0])
check(rep[3]["ok"] and tcb.state[1] == abi.ST_HELD, "hold ticker")
check("no task nosuch" in rep[4]["err"] and "ticker" in rep[4]["err"], "unknown task %r" % rep[4])
check(5 not in rep and console.bad_crc == 1, "bad crc dropped")
check("unknown command" in rep[6]["err"], "unknown command")
t0 = ticks[0]
kernel.run(duration_ms=30)
check(ticks[0] == t0, "a held task does not run")

sink.lines.clear()
req(7, "release ticker")
req(8, "call echo 2 6869")
req(9, "call echo 7")  # refused: one call at a time
kernel.run(duration_ms=30)
req(9, "call echo 7")  # a resend of a refused call repeats the refusal...
req(19, "call echo 7")  # ...a new request is served
kernel.run(duration_ms=30)
req(10, "fault echo")
kernel.run(duration_ms=30)
req(10, "fault echo")  # a resend: same reply, no second fault
req(11, "fault ticker 99999")
kernel.run(duration_ms=30)
rep = replies()
check(rep[7]["ok"] and rep[7]["id"] == 1 << 8 | 1, "release: new generation %r" % rep.get(7))
check(ticks[0] > t0, "released task runs again")
check(rep[8] == {"ok": 1, "rc": 5, "data": "4849"}, "call through the proxy %r" % rep.get(8))
check("busy" in rep[9]["err"], "second call while one is pending: busy")
check(rep[19]["rc"] == abi.E_NOTSUP, "call: server's rc")
check(rep[10]["ok"] and "injected" in rep[10]["fault"], "fault echo %r" % rep.get(10))
check(fault.count == 1 and tcb.state[0] == abi.ST_FAULTED, "fault injected exactly once")
check(sum(1 for ln in sink.lines if ln.startswith(b"\x1f=000a")) == 2, "resend answered again")
check("out of range" in rep[11]["err"], "bad fault kind")
check(console.requests == 13, "requests counted %d" % console.requests)

# call to a faulted server: E_DEAD, and the kernel still runs
sink.lines.clear()
req(12, "call echo 2 00")
kernel.run(duration_ms=30)
check(replies()[12]["rc"] == abi.E_DEAD, "call to a faulted server is dead")
# Nothing to read: poll() allocates nothing (it runs on every tick).
n = 10
ok = None
micropython.heap_lock()
try:
    while n:
        console.poll()
        n -= 1
    ok = True
except MemoryError:
    ok = False
micropython.heap_unlock()
check(ok, "poll with nothing pending allocates nothing")
w.close()
r.close()
os.remove(path)
done()
