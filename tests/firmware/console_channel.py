# The console command channel inside one process: requests come in on a
# stream pollable like stdin (a file on the unix port; on a board, whose
# littlefs files cannot be polled, a pipe), replies go to a list, the
# kernel keeps running.
import io
import json
import os
import time

import micropython
import rig
from kt import boot, check, done
from keep import abi, caps, fault, kernel, tcb, trace
from runtime import conreq, console

boot(max_msg=32)


async def echo(k):
    while True:
        m = await k.recv()
        calls[0] += 1
        if m.op == 2:
            await k.reply(m.call, 5, bytes(m.body[: m.len]).upper())
        else:
            await k.reply(m.call, abi.E_NOTSUP)


ticks = [0]
calls = [0]  # requests echo served: a resent call must not add one


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
class Pipe(io.IOBase):
    """Bytes the test writes and the console reads, pollable like stdin (a
    file was, on the unix port; a board's littlefs files cannot be polled)."""

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        pass

    def write(self, b):
        self.buf += b

    def flush(self):
        pass

    def readinto(self, b):
        n = min(len(b), len(self.buf) - self.pos)
        b[:n] = self.buf[self.pos:self.pos + n]
        self.pos += n
        return n

    def ioctl(self, req, arg):
        if req == 3:  # MP_STREAM_POLL: POLLIN (1) while bytes wait
            return arg & 1 if self.pos < len(self.buf) else 0
        return 0


if rig.SIM:
    path = "%s/keep_console.bin" % rig.scratch()
    w = open(path, "wb")
    r = open(path, "rb")
else:
    w = r = Pipe()
sink = Sink()
caps.load([[(0, 7)], [], []])  # a manifest's grants: echo may send to itself
console.start(stream_in=r, sink=sink)
check(console.proxy == 0xFF and tcb.ntasks == 2, "no proxy task until the first call")


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


def unread():
    """Request bytes the console has not read yet."""
    return r.tell() < w.tell() if rig.SIM else r.pos < len(r.buf)


def settle():
    """Run 30 ms, then on until the console has read every request and no
    call is in flight (bounded): 30 ms are enough on the unix port, not on a
    board, where a slice costs ~100x more."""
    kernel.run(duration_ms=30)
    t0 = time.ticks_ms()
    while (unread() or console._call is not None) and time.ticks_diff(time.ticks_ms(), t0) < 3000:
        kernel.run(duration_ms=5)


check(conreq.crc16(b"123456789") == 0x29B1, "CRC-16/CCITT-FALSE check value")
req(1, "ping")
req(2, "tasks")
req(3, "hold ticker")
req(4, "hold nosuch")
req(5, "ping", crc=0x1234)  # damaged: dropped, not answered
req(6, "frobnicate x")
settle()
rep = replies()
check(rep[1]["ok"] and rep[1]["ntasks"] == 2 and rep[1]["proxy"] == 0xFF, "ping %r" % rep.get(1))
rows = rep[2]["tasks"]
check([x[1] for x in rows] == ["echo", "ticker"], "task names: no proxy yet")
check(rows[0][2] == abi.ST_IN_RECV and rows[0][3] == 1 and rows[0][5] == 0, "echo row %r" % rows[0])
check(rep[3]["ok"] and tcb.state[1] == abi.ST_HELD, "hold ticker")
check("no task nosuch" in rep[4]["err"] and "ticker" in rep[4]["err"], "unknown task %r" % rep[4])
check(5 not in rep and console.bad_crc == 1, "bad crc dropped")
check("unknown command" in rep[6]["err"], "unknown command")
t0 = ticks[0]
settle()
check(ticks[0] == t0, "a held task does not run")

sink.lines.clear()
req(7, "release ticker")
trace.clear()
req(8, "call echo 2 6869")  # the first call spawns the proxy...
req(8, "call echo 2 6869")  # ...a resend while it is pending is ignored...
req(9, "call echo 7")  # ...and another call refused: one call at a time
settle()
check(console.proxy == 2 and tcb.ntasks == 3 and tcb.name[2] == "console",
      "the first call spawned the proxy in the next free slot")
check(kernel.lookup("console") == 2 and caps.grants[2][0] == abi.CONSOLE_BADGE
      and 2 not in caps.grants[2] and len(caps.grants[2]) == tcb.MAX_TASKS - 1,
      "the proxy is named and granted every other slot with the console badge")
recs = trace.records()
check(any(x[0] == abi.TR_NAME and x[1] == 2 for x in recs)
      and any(x[0] == abi.TR_STATE and x[1] == 2 for x in recs), "NAME and STATE records for the proxy")
check(calls[0] == 1, "the resent first call ran once (%d)" % calls[0])
req(8, "call echo 2 6869")  # a resend after the answer: the same answer, not a second call
settle()
check(calls[0] == 1 and sum(1 for ln in sink.lines if ln.startswith(b"\x1f=0008")) == 2,
      "the answered call is replayed, not rerun")
req(9, "call echo 7")  # a resend of a refused call repeats the refusal...
req(19, "call echo 7")  # ...a new request is served
settle()
req(10, "fault echo")
settle()
req(10, "fault echo")  # a resend: same reply, no second fault
req(11, "fault ticker 99999")
settle()
rep = replies()
check(rep[7]["ok"] and rep[7]["id"] == 1 << 8 | 1, "release: new generation %r" % rep.get(7))
check(ticks[0] > t0, "released task runs again")
check(rep[8] == {"ok": 1, "rc": 5, "data": "4849"}, "call through the proxy %r" % rep.get(8))
check("busy" in rep[9]["err"], "second call while one is pending: busy")
check(rep[19]["rc"] == abi.E_NOTSUP, "call: server's rc")
check(tcb.ntasks == 3 and calls[0] == 2, "later calls use the same proxy")
check(rep[10]["ok"] and "injected" in rep[10]["fault"], "fault echo %r" % rep.get(10))
check(fault.count == 1 and tcb.state[0] == abi.ST_FAULTED, "fault injected exactly once")
check(sum(1 for ln in sink.lines if ln.startswith(b"\x1f=000a")) == 2, "resend answered again")
check("out of range" in rep[11]["err"], "bad fault kind")
check(console.requests == 15, "requests counted %d" % console.requests)

# call to a faulted server: E_DEAD, and the kernel still runs; the proxy
# faulted meanwhile (the supervisor does not watch it): the call restarts it
fault.fault(2, abi.F_INJECTED, 0, "test")
sink.lines.clear()
req(12, "call echo 2 00")
settle()
check(replies()[12]["rc"] == abi.E_DEAD, "call to a faulted server is dead")
check(tcb.ntasks == 3 and tcb.gen[2] == 1 and tcb.state[2] == abi.ST_IN_WAIT,
      "a faulted proxy is restarted by the next call, in its slot")
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
if rig.SIM:
    os.remove(path)
done()
