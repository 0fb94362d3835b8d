"""Control channel: the host drives the simulated board over TCP.

The sim listens on 127.0.0.1:KEEP_SIM_CTL_PORT; one host connection at a
time (a new one replaces the old). Both directions carry JSON objects, one
per line. Host -> board requests have "op" and an optional "id"; every
request gets one reply {"id": ..., "ok": true, ...fields} or
{"id": ..., "ok": false, "error": "..."}. Board -> host events carry "ev"
and may come between replies:
  {"ev": "hello", "name": "sim", "reset_cause": "wdt", "culprit": 255,
   "npins": 48}                                   on connect
  {"ev": "pin", "pin": 5, "level": 1, "t_us": 123456}  every output change
  {"ev": "dropped", "n": 3}    output changes lost (ring overrun between polls)
  {"ev": "uart_tx", "uart": 1, "data": "6869"}    TX of a HOST-mode UART
The ops are in OPS below and in docs/hal.md. Byte strings travel as hex.

Invariants:
- Everything runs inside poll(), never from an interrupt path; poll()
  allocates nothing when no connection, request or change is pending
  (select.poll.ipoll reuses its result tuple).
- A request can only fail itself: bad input is an error reply, never an
  exception out of poll() (except `reset`/`wdt`, which end the process).
"""

import json
import select
import socket
from binascii import hexlify, unhexlify

from hal import RESET_NAMES
from hal.sim import pins, spi, uart, wdt

_st = {"srv": None, "cli": None, "buf": b""}
_sent = [0]  # pins.hist_n value already reported
_poller = select.poll()


def listen(port, host="127.0.0.1"):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo(host, port)[0][-1])
    s.listen(1)
    s.setblocking(False)
    _st["srv"] = s
    _poller.register(s, select.POLLIN)


def listening():
    return _st["srv"] is not None


def close():
    for k in ("cli", "srv"):
        s = _st[k]
        if s is not None:
            _poller.unregister(s)
            s.close()
            _st[k] = None


def send(obj):
    c = _st["cli"]
    if c is None:
        return
    try:
        c.write(json.dumps(obj).encode() + b"\n")
    except OSError:
        _drop()


def _drop():
    c = _st["cli"]
    if c is not None:
        _poller.unregister(c)
        c.close()
        _st["cli"] = None


def _accept():
    try:
        c, _ = _st["srv"].accept()
    except OSError:
        return
    _drop()
    c.setblocking(True)
    _st["cli"] = c
    _st["buf"] = b""
    _poller.register(c, select.POLLIN)
    _sent[0] = pins.hist_n[0]
    send({"ev": "hello", "name": "sim", "npins": pins.NPINS,
          "reset_cause": RESET_NAMES[wdt.reset_cause()], "culprit": wdt.reset_culprit()})


def _read():
    c = _st["cli"]
    try:
        data = c.recv(512)
    except OSError:
        data = b""
    if not data:
        _drop()
        return
    buf = _st["buf"] + data
    while True:
        i = buf.find(b"\n")
        if i < 0:
            break
        line = buf[:i]
        buf = buf[i + 1:]
        if line.strip():
            _request(line)
        if _st["cli"] is not c:
            return
    _st["buf"] = buf


def _request(line):
    rid = None
    try:
        req = json.loads(line)
        rid = req.get("id")
        fn = OPS.get(req.get("op"))
        if fn is None:
            raise ValueError("unknown op %s" % req.get("op"))
        rep = fn(req) or {}
        rep["ok"] = True
    except (ValueError, KeyError, TypeError, IndexError, OSError) as e:
        rep = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    rep["id"] = rid
    after = rep.pop("_then", None)
    send(rep)
    if after is not None:
        after()


def _events():
    n = pins.hist_n[0]
    k = _sent[0]
    if n != k:
        if n - k > pins.HIST_LEN:
            send({"ev": "dropped", "n": n - k - pins.HIST_LEN})
            k = n - pins.HIST_LEN
        while k < n:
            i = k % pins.HIST_LEN
            pl = pins.hist_pl[i]
            send({"ev": "pin", "pin": pl >> 1, "level": pl & 1, "t_us": pins.hist_t[i]})
            k += 1
        _sent[0] = n
    for uid in range(uart.NUARTS):
        if uart.line_mode[uid] == uart.HOST and uart._txcap_len[uid]:
            send({"ev": "uart_tx", "uart": uid, "data": hexlify(uart.take_tx(uid)).decode()})


def poll():
    if _st["srv"] is None:
        return
    for obj, ev in _poller.ipoll(0):
        if obj is _st["srv"]:
            _accept()
        elif obj is _st["cli"]:
            _read()
    if _st["cli"] is not None:
        _events()


# ---- ops ---------------------------------------------------------------------------
def _pin(req):
    p = req["pin"]
    if not 0 <= p < pins.NPINS:
        raise ValueError("pin out of range")
    return p


def _lvl(v):
    return None if v is None else (1 if v else 0)


def _opt(b):
    return None if b == pins.NONE else b


def op_ping(req):
    return {}


def op_status(req):
    from time import ticks_ms

    return {"name": "sim", "npins": pins.NPINS, "ticks_ms": ticks_ms(),
            "reset_cause": RESET_NAMES[wdt.reset_cause()],
            "uarts": [None if u is None else {"any": u._cnt, "overruns": u.overruns}
                      for u in uart.uarts],
            "spi": [{"bus": d.bus, "cs": d.cs, "fault": spi.FAULT_NAMES[d.fault]}
                    for d in spi.devices]}


def op_pin_drive(req):
    pins.set_drive(_pin(req), _lvl(req.get("level")))
    return {"level": pins.level[req["pin"]]}


def op_pin_read(req):
    p = _pin(req)
    return {"level": pins.level[p], "mode": "out" if pins.pmode[p] else "in",
            "driven": _opt(pins.drive[p]), "stuck": _opt(pins.stuck[p])}


def op_pin_history(req):
    p = req.get("pin")
    return {"changes": [list(c) for c in pins.history(p)], "total": pins.hist_n[0]}


def op_stuck(req):
    pins.set_stuck(_pin(req), _lvl(req.get("level")))
    return {"level": pins.level[req["pin"]]}


def op_wire(req):
    dst = req["dst"]
    src = req.get("src")
    pins.set_wire(src, dst)
    return {"level": pins.level[dst]}


def _uid(req):
    u = req["uart"]
    if not 0 <= u < uart.NUARTS:
        raise ValueError("uart out of range")
    return u


def op_uart_inject(req):
    uid = _uid(req)
    if uart.uarts[uid] is None:
        raise ValueError("uart %d is not open" % uid)
    return {"n": uart.inject(uid, unhexlify(req["data"]))}


def op_uart_noise(req):
    kind = req.get("kind", "flip")
    uart.set_noise(_uid(req), float(req["rate"]), uart.INSERT if kind == "insert" else uart.FLIP,
                   req.get("seed"))
    return {}


def op_uart_mode(req):
    mode = {"loop": uart.LOOP, "host": uart.HOST, "bridge": uart.BRIDGE}[req["mode"]]
    uart.set_mode(_uid(req), mode, req.get("host", "127.0.0.1"), req.get("port"))
    return {}


def _dev(req):
    d = spi.find(req["bus"], req["cs"])
    if d is None:
        raise ValueError("no spi device on bus %s cs %s" % (req["bus"], req["cs"]))
    return d


def op_spi_fault(req):
    f = req.get("fault")
    _dev(req).fault = {None: 0, "dead": spi.DEAD, "busy": spi.NEVER_READY}[f]
    return {}


def op_spi_peek(req):
    d = _dev(req)
    n = req.get("n", 16)
    if not 0 < n <= 1024:
        raise ValueError("n must be 1..1024")
    return {"data": hexlify(d.peek(req.get("addr", 0), n)).decode()}


def op_wdt(req):
    return {"_then": wdt.fire}


def op_reset(req):
    return {"_then": wdt.reset}


OPS = {"ping": op_ping, "status": op_status, "pin_drive": op_pin_drive,
       "pin_read": op_pin_read, "pin_history": op_pin_history, "stuck": op_stuck,
       "wire": op_wire, "uart_inject": op_uart_inject, "uart_noise": op_uart_noise,
       "uart_mode": op_uart_mode, "spi_fault": op_spi_fault, "spi_peek": op_spi_peek,
       "wdt": op_wdt, "reset": op_reset}
