"""gpio server: owns a set of pins; clients read, write, toggle, configure
them and subscribe to edges, each within the pins its badge allows.

Started as `main(k, owns={'pins': (...)}, rights=None)`:
  owns    the manifest's `owns` table; only `owns['pins']` is used. A pin
          not in it is refused to everyone (E_DENIED).
  rights  badge -> pins that badge may use, e.g. {"1": [2], "2": [4, 5]}
          (TOML table keys are strings; int keys work too). None: every
          client may use every owned pin (tests, a board with one app).

Protocol (abi.MSG_HDR header, then the body; all numbers are u8 unless
noted; every reply rc is OK or a negative abi.E_* code):

  op 1 READ       [pin]                    -> [level]
  op 2 WRITE      [pin, level]             -> []          the pin becomes an output
  op 3 TOGGLE     [pin]                    -> [level]     the level after the toggle
  op 4 CONFIG     [pin, mode, pull(, value)] -> []        mode 0 in / 1 out;
                                             pull 0 none / 1 up / 2 down;
                                             value: initial output level
  op 5 SUBSCRIBE  [pin, edges, bit]        -> []          edges 1 rising / 2
                  falling / 3 both / 0 unsubscribe. On each edge the server
                  notifies the client with bit `bit` (0..27).

Errors: E_BADARG body too short or a value out of range; E_DENIED the pin
is not owned by this server or not allowed for the caller's badge; E_BUSY
SUBSCRIBE to a pin another client is subscribed to; E_NOTSUP unknown op.
Idempotent (a client may repeat them after E_DEAD): READ, WRITE, CONFIG,
SUBSCRIBE. Not idempotent: TOGGLE.

Interrupts: the HAL pin irq posts this task's bit (1 << index of the pin in
owns['pins']) through keep.irq; the server's recv mask includes those bits,
and on wake-up it forwards `notify(subscriber, 1 << bit)`. A subscriber that
died is dropped. Every output change is also a TR_PIN trace record (pin,
level, ticks_ms), which the host's VCD export draws.

Restart: pins are re-created at start (mode input, no pull, no irq) and
subscriptions start empty, so a client that subscribed must subscribe
again after it sees E_DEAD (clients.gpio.Gpio does it on its next call).
"""

from micropython import const

import hal
from keep import trace

_TR_PIN = const(22)  # abi.TR_PIN

_READ = const(1)
_WRITE = const(2)
_TOGGLE = const(3)
_CONFIG = const(4)
_SUBSCRIBE = const(5)

_OK = const(0)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)
_E_DENIED = const(-5)
_E_BUSY = const(-9)
_MAX_PINS = const(28)  # one irq bit per owned pin, below the kernel's bits


async def main(k, owns=None, rights=None, **_):
    h = hal.load()
    pins = tuple((owns or {}).get("pins", ()))
    if len(pins) > _MAX_PINS:
        raise ValueError("gpio: at most 28 pins per server")
    n = len(pins)
    objs = [None] * n
    sub_id = [-1] * n  # subscriber task id per pin index
    sub_bits = [0] * n
    sub_edges = bytearray(n)
    mode = bytearray(n)  # hal.IN / hal.OUT as configured
    for i in range(n):
        objs[i] = h.Pin(pins[i], hal.IN)  # re-initialise: a restart starts clean
        objs[i].irq(None)
    irq_mask = (1 << n) - 1
    out = bytearray(1)
    out_v = memoryview(out)
    slot = k.slot
    while True:
        m = await k.recv(None, irq_mask)
        if m.sender < 0:  # edges: forward to the subscribers
            bits = m.bits
            for i in range(n):
                if bits >> i & 1 and sub_id[i] >= 0:
                    if await k.notify(sub_id[i], sub_bits[i]) != _OK:
                        sub_id[i] = -1
                        objs[i].irq(None)
            continue
        c = m.sender
        op = m.op
        b = m.body
        ln = m.len
        if op < _READ or op > _SUBSCRIBE:
            await k.reply(c, _E_NOTSUP)
            continue
        if ln < 1 or (op == _WRITE and ln < 2) or (op == _CONFIG and ln < 3) or \
                (op == _SUBSCRIBE and ln < 3):
            await k.reply(c, _E_BADARG)
            continue
        pin = b[0]
        i = 0
        while i < n and pins[i] != pin:
            i += 1
        if i < n and rights is not None:  # may this badge use the pin?
            a = rights.get(m.badge)
            if a is None:
                a = rights.get(str(m.badge))
            if a is None or pin not in a:
                i = n
        if i == n:
            await k.reply(c, _E_DENIED)
            continue
        p = objs[i]
        if op == _READ:
            out[0] = p.value()
            await k.reply(c, _OK, out_v)
        elif op == _WRITE or op == _TOGGLE:
            if op == _WRITE:
                if b[1] > 1:
                    await k.reply(c, _E_BADARG)
                    continue
                if mode[i] != hal.OUT:  # becomes an output at the requested level
                    objs[i] = p = h.Pin(pin, hal.OUT, None, b[1])
                    mode[i] = hal.OUT
                else:
                    p.value(b[1])
            else:
                p.toggle()
            v = p.value()
            trace.write(_TR_PIN, slot, pin, v | (h.ticks_ms() << 1 & 0xFFFFFFFF))
            out[0] = v
            await k.reply(c, _OK, out_v if op == _TOGGLE else None)
        elif op == _CONFIG:
            pull = b[2]
            if b[1] > 1 or pull > 2:
                await k.reply(c, _E_BADARG)
                continue
            objs[i] = p = h.Pin(pin, b[1], pull or None, b[3] if ln > 3 else None)
            mode[i] = b[1]
            if sub_id[i] >= 0 and b[1] == hal.IN:
                p.irq(slot, 1 << i, sub_edges[i])
            await k.reply(c, _OK)
        else:  # _SUBSCRIBE
            edges = b[1]
            bit = b[2]
            if edges > 3 or bit > 27:
                await k.reply(c, _E_BADARG)
                continue
            if sub_id[i] >= 0 and sub_id[i] != c and edges:
                # someone else has it; free it only if that client is gone
                if await k.notify(sub_id[i], 0) == _OK:
                    await k.reply(c, _E_BUSY)
                    continue
            if edges:
                sub_id[i] = c
                sub_bits[i] = 1 << bit
                sub_edges[i] = edges
                p.irq(slot, 1 << i, edges)
            else:
                sub_id[i] = -1
                p.irq(None)
            await k.reply(c, _OK)
