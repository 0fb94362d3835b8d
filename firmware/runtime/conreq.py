"""Console requests: check, run and answer one request line.

The other half of runtime/console.py (whose docstring is the wire format):
console.poll() collects a line and hands it here, so a board the host
never sends a request to (the chaos demo) does not load this code (~2 K
and ~20 interned names on the unix port). The state a reply depends on
(the last answers, the pending call, the counters) stays in console.
The host proxy task `console` is here too: the first `call` spawns it
(_start_proxy) and later calls reuse it.

Invariants: the console's - a request runs in kernel context, a resend is
answered from console._last and not run twice, a reply is one write().
"""

import sys

from micropython import const

from keep import caps, fault, kernel, notify, tcb, trace

from . import console, drain

_ABI_VERSION = const(1)  # abi.ABI_VERSION
_CONSOLE_BADGE = const(65535)  # abi.CONSOLE_BADGE
_F_INJECTED = const(9)  # abi.F_INJECTED
_MAX_OP = const(255)  # abi.MAX_OP
_REQ = const(0x3F)  # abi.CONSOLE_REQ
_NONE = const(0xFF)
_CALL_BIT = const(1)  # the proxy's notification bit: "a call is pending"
_FAULTED = const(6)  # abi.ST_FAULTED
_TR_NAME = const(23)  # abi.TR_NAME
_TR_STATE = const(19)  # abi.TR_STATE
_FAULT_TEXT_MAX = const(120)


def crc16(data):
    """CRC-16/CCITT-FALSE, as trace frames use (poly 0x1021, init 0xFFFF); here,
    not in console, so a board never asked anything does not load it."""
    c = 0xFFFF
    for b in data:
        x = ((c >> 8) ^ b) & 0xFF
        x ^= x >> 4
        c = ((c << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
    return c


def _write(data):
    w = console.out or drain.sink
    if w is None:
        w = getattr(sys.stdout, "buffer", sys.stdout)
    w.write(data)


def answer(seq, obj, slot=0):
    """Write the reply line for request seq; remember it in console._last[slot:slot + 2]."""
    import json

    body = ("=%s " % seq) + json.dumps(obj)
    raw = body.encode()
    line = b"\x1f" + raw + ("*%04x\n" % crc16(raw)).encode()
    last = console._last
    last[slot] = seq
    last[slot + 1] = line
    _write(line)


def handle(line):
    """Check one request line (after 0x1F, before the newline) and answer it."""
    c = console
    star = line.rfind(b"*")
    if star < 6 or line[0] != _REQ:
        return
    body = line[:star]
    try:
        ok = int(line[star + 1:], 16) == crc16(body)
    except ValueError:
        ok = False
    if not ok:
        c.bad_crc += 1
        return
    parts = body[1:].decode().split()
    if len(parts) < 2:
        return
    seq = parts[0]
    c.requests += 1
    last = c._last
    if seq == last[0] or seq == last[2]:
        _write(last[1] if seq == last[0] else last[3])  # a resend: answered, not rerun
        return
    if c._call is not None and c._call[0] == seq:
        return  # still calling; the proxy answers
    try:
        r = _command(seq, parts[1], parts[2:])
        if r is not None:  # None: a call, the proxy answers when it is done
            answer(seq, r)
    except Exception as e:  # a bad argument is the host's problem, never the kernel's
        answer(seq, {"err": "%s: %s" % (type(e).__name__, e)})


def _command(seq, cmd, args):
    proxy = console.proxy
    if cmd == "ping":
        return {"ok": 1, "abi": _ABI_VERSION, "ntasks": tcb.ntasks, "proxy": proxy,
                "bad_crc": console.bad_crc}
    if cmd == "tasks":
        return {"ok": 1, "tasks": [_row(s) for s in range(tcb.ntasks)], "ms": kernel.now_ms()}
    if cmd not in ("hold", "release", "fault", "call"):
        return {"err": "unknown command %s" % cmd}
    if not args:
        return {"err": "%s needs a task name" % cmd}
    t = args[0]  # a task name or slot number
    if t.isdigit():
        s = int(t) if int(t) < tcb.ntasks else -1
    else:
        s = kernel.lookup(t)  # an id: generation << 8 | slot
        s = s & 0xFF if s >= 0 else -1
    if s < 0:
        names = ", ".join(tcb.name[i] for i in range(tcb.ntasks))
        return {"err": "no task %s (tasks: %s)" % (t, names)}
    if cmd == "hold":
        if s == proxy:
            return {"err": "the console task itself cannot be held"}
        kernel.hold(s)
        return {"ok": 1, "slot": s, "state": tcb.state[s]}
    if cmd == "release":
        i = kernel.release(s)
        return {"ok": 1, "slot": s, "id": i, "state": tcb.state[s]}
    if cmd == "fault":
        if s == proxy:
            return {"err": "the console task itself cannot be faulted"}
        st = tcb.state[s]
        if st >= _FAULTED:
            from keep.faultnames import STATES

            return {"err": "%s is %s: nothing runs to fault" % (tcb.name[s], STATES.split()[st])}
        kind = int(args[1]) if len(args) > 1 else _F_INJECTED
        if not 0 < kind < 256:
            return {"err": "fault kind %d out of range" % kind}
        fault.fault(s, kind, 0, "injected from the console")
        return {"ok": 1, "slot": s, "fault": _fault_text(s)}
    if cmd == "call":
        if console._prio < 0:
            return {"err": "no console proxy task on this board (console.start(with_proxy=True))"}
        if proxy != _NONE and tcb.state[proxy] >= _FAULTED:
            # The supervisor sized its tables before the proxy existed, so
            # restarting it is ours; the call it died in is lost (the host
            # gave up on it), and this one is served.
            console._call = None
            kernel.restart(proxy)
        if console._call is not None:
            return {"err": "busy: the previous call has not finished"}
        if len(args) < 2:
            return {"err": "call needs a task and an op"}
        op = int(args[1])
        from binascii import unhexlify  # on every port; bytes.fromhex() is not

        data = unhexlify(args[2]) if len(args) > 2 else b""
        if not 0 <= op <= _MAX_OP:
            return {"err": "op %d out of range 0..%d" % (op, _MAX_OP)}
        if len(data) > tcb.max_msg:
            return {"err": "%d bytes of data, the limit is %d" % (len(data), tcb.max_msg)}
        if proxy == _NONE:
            proxy = _start_proxy()
        console._call = [seq, kernel.tid(s), op, data]
        notify.post(proxy, _CALL_BIT)  # kept if the proxy has not reached its wait yet
        return None


def _start_proxy():
    """Spawn the host proxy in the next free slot (kernel context: between
    slices), grant it every slot with the console badge, and name it in the
    trace as runtime.boot names the tasks it starts."""
    s = kernel.spawn(_proxy, prio=console._prio, name="console") & 0xFF
    g = caps.grants
    if g is not None:
        while len(g) <= s:
            g.append({})
        g[s] = {d: _CONSOLE_BADGE for d in range(tcb.MAX_TASKS) if d != s}
    console.proxy = s
    trace.write(_TR_STATE, s, tcb.state[s] | tcb.prio[s] << 8, tcb.gen[s])
    trace.write_chars(_TR_NAME, s, b"console", 7)
    return s


async def _proxy(k):
    """The host proxy: makes the pending `call` as an ordinary client."""
    c = console
    while True:
        await k.wait(_CALL_BIT)
        r = c._call
        if r is None:
            continue
        m = await k.send(r[1], r[2], r[3], timeout_ms=c.call_timeout_ms)
        rc = m.rc
        data = bytes(m.rbody[: m.rlen]) if rc >= 0 else b""
        c._call = None
        from binascii import hexlify  # on every port; bytes.hex() is not

        answer(r[0], {"ok": 1, "rc": rc, "data": hexlify(data).decode()}, 2)


def _fault_text(s):
    r = fault.records.get(s)
    return r.text()[:_FAULT_TEXT_MAX] if r is not None else None


def _row(s):
    return [s, tcb.name[s], tcb.state[s], tcb.base[s], tcb.prio[s], tcb.gen[s],
            tcb.restarts[s], tcb.peer[s], _fault_text(s)]
