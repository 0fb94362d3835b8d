"""Console command channel: the host inspects and steers a running kernel.

The host lists tasks, holds, releases and faults a task, and calls a server
op, over the same console that carries the REPL, console text and trace
frames - no debug probe, and the kernel never stops. The board layer calls
poll() from the kernel's tick and idle hooks (boot.py's console_hook); it
reads whatever stdin holds without blocking, picks out request lines and
answers them at once, except `call`, which a tiny kernel task (the host
proxy, named "console") makes on the host's behalf.

Wire format (numbers in abi.py, the full table in docs/tools.md):

    request  0x1F '?' SEQ ' ' COMMAND [' ' ARG]... '*' CRC '\\n'
    reply    0x1F '=' SEQ ' ' JSON '*' CRC '\\n'

SEQ is 4 hex digits chosen by the host, CRC four hex digits of
CRC-16/CCITT-FALSE over everything from '?' / '=' to before '*'. 0x1F is
never printed by the kernel and no terminal binds it; Ctrl-C (0x03) stays
the interrupt character, so the host can always stop the kernel the usual
way. Commands: ping, tasks, hold T, release T, fault T [KIND], call T OP
[HEX] (T a task name or slot number).

Invariants:
- poll() never blocks and allocates nothing while stdin is empty; a request
  is handled in kernel context (between slices: tcb.cur is NONE), where
  hold/release/fault are safe. It allocates on the request path only.
- A request whose CRC fails is dropped unanswered (the host resends); a
  resent request (the SEQ of the last answer, or of the last call) gets
  the same reply again and is not executed twice, so a lost reply never
  doubles a fault, a restart or a call.
- A reply is written with one write(), so it never interleaves with a trace
  frame (drain also writes whole frames) or another reply.
- The proxy sends from its own task with the console badge and a timeout;
  the server sees an ordinary client, and the kernel loop never waits.
"""

import sys

from micropython import const

from . import caps, drain, fault, kernel, notify, tcb

_ABI_VERSION = const(1)  # abi.ABI_VERSION
_CONSOLE_BADGE = const(65535)  # abi.CONSOLE_BADGE
_F_INJECTED = const(9)  # abi.F_INJECTED
_MAX_OP = const(255)  # abi.MAX_OP

_START = const(0x1F)  # abi.CONSOLE_START
_REQ = const(0x3F)  # abi.CONSOLE_REQ
_LINE_MAX = const(200)  # abi.CONSOLE_LINE_MAX
_NONE = const(0xFF)
_CALL_BIT = const(1)  # the proxy's own notification bit: "a call is pending"
_FAULTED = const(6)  # abi.ST_FAULTED
_HELD = const(7)  # abi.ST_HELD
_DONE = const(8)  # abi.ST_DONE
_FAULT_TEXT_MAX = const(120)

_line = bytearray(_LINE_MAX)
_one = bytearray(1)
_st = bytearray(2)  # [0] collecting a request, [1] unused
_n = 0
_poller = None
_read1 = None
out = None  # has write(bytes); None: drain.sink, else sys.stdout.buffer
proxy = _NONE  # slot of the host proxy task, _NONE if not started
call_timeout_ms = 1000
_call = None  # [seq, dest id, op, data] while the proxy works on a call
_last = [None, None, None, None]  # seq, reply of the last answer; the same for the last call
bad_crc = 0  # requests dropped for a bad checksum (the host resent them)
requests = 0


def crc16(data):
    """CRC-16/CCITT-FALSE, as trace frames use (poly 0x1021, init 0xFFFF)."""
    c = 0xFFFF
    for b in data:
        x = ((c >> 8) ^ b) & 0xFF
        x ^= x >> 4
        c = ((c << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
    return c


def start(with_proxy=True, prio=7, stream_in=None, sink=None, timeout_ms=1000):
    """Listen on the console; spawn the host proxy task (for `call`).

    Call after kernel.boot() and after the app's tasks are spawned: the proxy
    takes the next slot. With a manifest loaded the proxy is granted every
    slot with abi.CONSOLE_BADGE, so servers can tell host calls apart.
    stream_in / sink replace sys.stdin / the console output (tests).
    """
    global _poller, _read1, out, proxy, call_timeout_ms, _call, _n
    import select

    src = stream_in if stream_in is not None else sys.stdin
    _poller = select.poll()
    _poller.register(src, select.POLLIN)
    raw = getattr(src, "buffer", src)
    _read1 = getattr(raw, "readinto", None)
    if _read1 is None:  # a stream without readinto: read(1) allocates, still correct
        rd = raw.read

        def _read1(buf):
            b = rd(1)
            if b:
                buf[0] = b[0] if not isinstance(b, str) else ord(b)
                return 1
            return 0
    out = sink
    call_timeout_ms = timeout_ms
    _call = None
    _last[0] = _last[1] = _last[2] = _last[3] = None
    _n = 0
    _st[0] = 0
    proxy = _NONE
    if with_proxy:
        proxy = kernel.spawn(_proxy_task, prio=prio, name="console") & 0xFF
        if caps.grants is not None:
            while len(caps.grants) <= proxy:
                caps.grants.append({})
            caps.grants[proxy] = {s: _CONSOLE_BADGE for s in range(tcb.MAX_TASKS) if s != proxy}
    return proxy


def poll(ms=0):
    """Read pending console input; answer complete requests. Never blocks.

    Safe as tick_hook and (with the ms argument) as part of idle_hook.
    """
    global _n
    p = _poller
    if p is None or tcb.cur != _NONE:
        return
    line = _line
    one = _one
    st = _st
    budget = _LINE_MAX
    while budget:
        ready = False
        for _ in p.ipoll(0):
            ready = True
        if not ready:
            return
        if not _read1(one):
            return
        budget -= 1
        b = one[0]
        if b == _START:
            st[0] = 1
            _n = 0
        elif not st[0]:
            continue  # REPL input or noise: not ours
        elif b == 0x0A:
            st[0] = 0
            _handle(bytes(line[:_n]))
        elif b == 0x0D:
            continue
        elif _n < _LINE_MAX:
            line[_n] = b
            _n += 1
        else:
            st[0] = 0  # overlong: not a request


def _write(data):
    w = out or drain.sink
    if w is None:
        w = getattr(sys.stdout, "buffer", sys.stdout)
    w.write(data)


def _answer(seq, obj, slot=0):
    import json

    body = ("=%s " % seq) + json.dumps(obj)
    raw = body.encode()
    line = b"\x1f" + raw + ("*%04x\n" % crc16(raw)).encode()
    _last[slot] = seq
    _last[slot + 1] = line
    _write(line)


def _handle(line):
    global bad_crc, requests
    star = line.rfind(b"*")
    if star < 6 or line[0] != _REQ:
        return
    body = line[:star]
    try:
        ok = int(line[star + 1:], 16) == crc16(body)
    except ValueError:
        ok = False
    if not ok:
        bad_crc += 1
        return
    parts = body[1:].decode().split()
    if len(parts) < 2:
        return
    seq = parts[0]
    requests += 1
    if seq == _last[0] or seq == _last[2]:
        _write(_last[1] if seq == _last[0] else _last[3])  # a resend: answered, not rerun
        return
    if _call is not None and _call[0] == seq:
        return  # still calling; the proxy answers
    try:
        r = _command(seq, parts[1], parts[2:])
        if r is not None:  # None: a call, the proxy answers when it is done
            _answer(seq, r)
    except Exception as e:  # a bad argument is the host's problem, never the kernel's
        _answer(seq, {"err": "%s: %s" % (type(e).__name__, e)})


def _slot(name):
    if name.isdigit():
        s = int(name)
        if s < tcb.ntasks:
            return s
    else:
        s = kernel.names.get(name, -1)
        if s >= 0:
            return s
    raise _NoTask(name)


class _NoTask(Exception):
    pass


def _command(seq, cmd, args):
    global _call
    try:
        if cmd == "ping":
            return {"ok": 1, "abi": _ABI_VERSION, "ntasks": tcb.ntasks, "proxy": proxy,
                    "bad_crc": bad_crc}
        if cmd == "tasks":
            return {"ok": 1, "tasks": [_row(s) for s in range(tcb.ntasks)], "ms": kernel.now_ms()}
        if cmd not in ("hold", "release", "fault", "call"):
            return {"err": "unknown command %s" % cmd}
        if not args:
            return {"err": "%s needs a task name" % cmd}
        s = _slot(args[0])
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
                from .abinames import STATE_NAMES

                return {"err": "%s is %s: nothing runs to fault" % (tcb.name[s], STATE_NAMES[st])}
            kind = int(args[1]) if len(args) > 1 else _F_INJECTED
            if not 0 < kind < 256:
                return {"err": "fault kind %d out of range" % kind}
            fault.fault(s, kind, 0, "injected from the console")
            return {"ok": 1, "slot": s, "fault": _fault_text(s)}
        if cmd == "call":
            if proxy == _NONE:
                return {"err": "no console proxy task on this board (console.start(with_proxy=True))"}
            if _call is not None:
                return {"err": "busy: the previous call has not finished"}
            if len(args) < 2:
                return {"err": "call needs a task and an op"}
            op = int(args[1])
            data = _unhex(args[2]) if len(args) > 2 else b""
            if not 0 <= op <= _MAX_OP:
                return {"err": "op %d out of range 0..%d" % (op, _MAX_OP)}
            if len(data) > tcb.max_msg:
                return {"err": "%d bytes of data, the limit is %d" % (len(data), tcb.max_msg)}
            _call = [seq, kernel.tid(s), op, data]
            notify.post(proxy, _CALL_BIT)
            return None
    except _NoTask as e:
        names = ", ".join(tcb.name[i] for i in range(tcb.ntasks))
        return {"err": "no task %s (tasks: %s)" % (e.args[0], names)}


def _hex(b):
    from binascii import hexlify  # on every port; bytes.hex() is not

    return hexlify(b).decode()


def _unhex(t):
    from binascii import unhexlify

    return unhexlify(t)


def _fault_text(s):
    r = fault.records.get(s)
    return r.text()[:_FAULT_TEXT_MAX] if r is not None else None


def _row(s):
    return [s, tcb.name[s], tcb.state[s], tcb.base[s], tcb.prio[s], tcb.gen[s],
            tcb.restarts[s], tcb.peer[s], _fault_text(s)]


async def _proxy_task(k):
    """The host proxy: makes the pending `call` as an ordinary client."""
    global _call
    while True:
        await k.wait(_CALL_BIT)
        c = _call
        if c is None:
            continue
        r = await k.send(c[1], c[2], c[3], timeout_ms=call_timeout_ms)
        rc = r.rc
        data = bytes(r.rbody[: r.rlen]) if rc >= 0 else b""
        _call = None
        _answer(c[0], {"ok": 1, "rc": rc, "data": _hex(data)}, 2)
