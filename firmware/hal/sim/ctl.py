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
The ops are in _handle below and in docs/hal.md. Byte strings travel as hex.

Invariants:
- Everything runs inside poll(), never from an interrupt path; poll()
  allocates nothing when no connection, request or change is pending
  (select.poll.ipoll reuses its result tuple).
- A request can only fail itself: bad input is an error reply, never an
  exception out of poll() (except `reset`/`wdt`, which end the process).
"""

import json
import select
from binascii import hexlify, unhexlify

from hal import RESET_NAMES
from hal.sim import WORLD_FILE, pins, spi, uart, wdt, world

_st = {"srv": None, "cli": None, "buf": b""}
_sent = [0]  # output changes already reported (pins.wtab[world.HIST_N])
_poller = select.poll()


def adopt(s):
    """Serve on the listening socket hal.sim.listen() opened."""
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
    _sent[0] = pins.wtab[world.HIST_N]
    send({"ev": "hello", "name": "sim", "npins": world.NPINS,
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
        rep = _handle(req.get("op") or "", req)
        rep["ok"] = True
    except (ValueError, KeyError, TypeError, IndexError, OSError) as e:
        rep = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    rep["id"] = rid
    if rep["ok"] and req.get("op") in _WORLD_OPS:
        _remember(req)
    after = rep.pop("_then", None)
    send(rep)
    if after is not None:
        after()


# ---- the world outlives a reboot ---------------------------------------------------
# What the host did to the board's surroundings (driven levels, stuck pins,
# wires, line modes and noise, failed devices) is kept in hal.sim.WORLD_FILE beside
# the reset cause, so the next boot starts with it in place *before* the
# firmware sets up its pins: an input held low stays low across a reset
# instead of showing a fresh edge when the host re-applies it.
_WORLD_OPS = ("pin_drive", "stuck", "wire", "uart_mode", "uart_noise", "spi_fault")


def _remember(req):
    r = dict(req)
    r.pop("id", None)
    op = r["op"]
    key = "%s %s" % (op, r.get("pin", r.get("dst", r.get("uart", "%s/%s" % (r.get("bus"), r.get("cs"))))))
    world = load_world()
    world[key] = r
    with open(world_path(), "w") as f:
        f.write(json.dumps(world))


def world_path():
    """The file the world is remembered in, beside the reset cause."""
    return wdt._path(WORLD_FILE)


def load_world():
    try:
        with open(world_path()) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return {}


def restore_world():
    """Boot: re-apply the remembered world (called before the firmware runs)."""
    for r in load_world().values():
        try:
            _handle(r["op"], r)
        except (ValueError, KeyError, TypeError, OSError):
            pass


def _events():
    n = pins.wtab[world.HIST_N]
    k = _sent[0]
    if n != k:
        if n - k > world.HIST_LEN:
            send({"ev": "dropped", "n": n - k - world.HIST_LEN})
            k = n - world.HIST_LEN
        while k < n:
            i = k % world.HIST_LEN
            pl = pins.tab[world.HIST + i]
            send({"ev": "pin", "pin": pl >> 1, "level": pl & 1, "t_us": pins.wtab[world.HIST_T + i]})
            k += 1
        _sent[0] = n
    for uid in range(world.NUARTS):
        if uart.lb[uid] == world.HOST:  # line mode
            d = world.take_tx(uid)  # b"" (no allocation) when nothing was sent
            if d:
                send({"ev": "uart_tx", "uart": uid, "data": hexlify(d).decode()})


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
# One function with an if-chain rather than a function per op: on the unix
# port every function object costs ~200 bytes of heap, and this runs rarely.
def _handle(op, r):
    if op == "ping":
        return {}
    if op == "status":
        from time import ticks_ms

        return {"name": "sim", "npins": world.NPINS, "ticks_ms": ticks_ms(),
                "reset_cause": RESET_NAMES[wdt.reset_cause()],
                "uarts": [None if u is None else {"any": u._cnt, "overruns": u.overruns}
                          for u in uart.uarts],
                "spi": [{"bus": d.bus, "cs": d.cs, "fault": world.FAULT_NAMES[d.fault]}
                        for d in spi.devices]}
    if op in ("pin_drive", "pin_read", "stuck"):
        p = r["pin"]
        if not 0 <= p < world.NPINS:
            raise ValueError("pin out of range")
        v = r.get("level")
        v = None if v is None else (1 if v else 0)
        if op == "pin_drive":
            world.drive(p, v)
        elif op == "stuck":
            world.stuck(p, v)
        t = pins.tab
        d = t[world.DRIVE + p]
        s = t[world.STUCK + p]
        return {"level": t[world.LEVEL + p], "mode": "out" if t[world.MODE + p] else "in",
                "driven": None if d == world.NONE else d, "stuck": None if s == world.NONE else s}
    if op == "pin_history":
        return {"changes": [list(c) for c in world.history(r.get("pin"))],
                "total": pins.wtab[world.HIST_N]}
    if op == "wire":
        world.wire(r.get("src"), r["dst"])
        return {"level": pins.tab[world.LEVEL + r["dst"]]}
    if op.startswith("uart_"):
        uid = r["uart"]
        if not 0 <= uid < world.NUARTS:
            raise ValueError("uart out of range")
        if op == "uart_inject":
            if uart.uarts[uid] is None:
                raise ValueError("uart %d is not open" % uid)
            return {"n": world.inject(uid, unhexlify(r["data"]))}
        if op == "uart_noise":
            world.set_noise(uid, float(r["rate"]),
                           world.INSERT if r.get("kind") == "insert" else world.FLIP, r.get("seed"))
            return {}
        if op == "uart_mode":
            mode = {"loop": world.LOOP, "host": world.HOST, "bridge": world.BRIDGE}[r["mode"]]
            world.set_mode(uid, mode, r.get("host", "127.0.0.1"), r.get("port"))
            return {}
    if op.startswith("spi_"):
        d = world.find(r["bus"], r["cs"])
        if d is None:
            raise ValueError("no spi device on bus %s cs %s" % (r["bus"], r["cs"]))
        if op == "spi_fault":
            d.fault = {None: 0, "dead": world.DEAD, "busy": world.NEVER_READY}[r.get("fault")]
            return {}
        if op == "spi_peek":
            n = r.get("n", 16)
            if not 0 < n <= 1024:
                raise ValueError("n must be 1..1024")
            return {"data": hexlify(world.peek(d, r.get("addr", 0), n)).decode()}
    if op == "wdt":
        return {"_then": world.fire}
    if op == "reset":
        return {"_then": wdt.reset}
    raise ValueError("unknown op %s" % op)
