# Found by fuzz_kernel.py: syscall arguments of the wrong type or range that
# the kernel does not reject as `badarg` (docs/kernel.md: "A wrong argument
# type or range faults the calling task (badarg)"). Each case runs one task
# that makes the call against an idle server and checks (1) the caller's
# fault kind is badarg and (2) the server saw nothing. Fails until fixed.
from kt import check, done
from keep import abi, fault, kernel, tcb

CASES = (
    # (what, the call)
    ("send op 1.5", lambda k, s: k.send(s, 1.5, b"x")),
    ("send timeout_ms 1.5", lambda k, s: k.send(s, 1, b"x", None, 1.5)),
    ("send timeout_ms 2**33", lambda k, s: k.send(s, 1, b"x", None, 1 << 33)),
    ("recv mask 1.5", lambda k, s: k.recv(None, 1.5)),
    ("recv mask 2**33", lambda k, s: k.recv(None, 1 << 33)),
    ("recv timeout_ms 1.5", lambda k, s: k.recv(1.5)),
    ("recv timeout_ms 2**33", lambda k, s: k.recv(1 << 33)),
    ("wait timeout_ms 2**33", lambda k, s: k.wait(1, 1 << 33)),
    ("sleep_ms 2**33", lambda k, s: k.sleep_ms(1 << 33)),
)
# A timeout of 2**33 ms is either refused (badarg) or honoured; the kernel
# stores it in a 32-bit ticks deadline, so it fires after a few ms instead.
SLOW_OK = ("timeout_ms 2**33", "sleep_ms 2**33")

seen = []


async def server(k):
    m = await k.recv()
    seen.append(m.op)
    await k.recv()  # keeps the caller in_reply (never replies)


async def ticker(k):
    # Another timer: timers.expire then re-reads the caller's deadline from
    # the 32-bit tcb.deadline array (a 2**33 ms timeout is stored there
    # truncated, while timers.soonest keeps the full int).
    await k.sleep_ms(5)
    await k.sleep_ms(5)


async def caller(k, s, call):
    await call(k, s)
    await k.sleep_ms(0)


for what, call in CASES:
    kernel.boot()
    seen.clear()
    s = kernel.spawn(server, 1, "server")
    c = kernel.spawn(caller, 2, "caller", (s, call))
    kernel.spawn(ticker, 3, "ticker")
    kernel.run(duration_ms=100)
    r = fault.records.get(c)
    kind = r.kind if r else None
    # Honoured: after 100 ms the caller is still blocked in its call.
    honoured = any(w in what for w in SLOW_OK) and r is None and \
        tcb.state[c] in (abi.ST_IN_REPLY, abi.ST_IN_RECV, abi.ST_IN_WAIT, abi.ST_SLEEPING)
    check(kind == abi.F_BADARG or honoured,
          "%s: caller fault %r (%s), state %d" % (what, kind, r and r.text(), tcb.state[c]))
    check(kind is None or not seen, "%s: the server received a message from a call that faulted: %r" % (what, seen))
done()
