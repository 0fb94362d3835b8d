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
_PIN_TICKS_MASK = const(0x1FFFFFFF)  # abi.TR_PIN: ticks_ms mod 2**29

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

# Per-pin state, for as long as the server runs, in one list of _W blocks
# of n slots (field f of pin i at st[f * n + i]) instead of one list or
# bytearray per field: each small object costs 64 bytes on a 64-bit port.
_PIN = const(0)  # the hal Pin (st[i])
_SUB = const(1)  # the subscriber's task id, -1 for none
_BITS = const(2)  # the notification bits it asked for (1 << bit)
_CFG = const(3)  # edges << 1 | mode: the edges subscribed to, hal.IN or hal.OUT
_W = const(4)

# main() is one coroutine frame for the task's whole life, 8 bytes a slot
# for each local and for the deepest expression's stack: its loops are
# `while`, not `for ... in range` (whose loop state would be two more
# slots), request fields are read from m where used rather than copied
# into more locals, and one scratch local, v, serves every branch.


async def main(k, owns=None, rights=None, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    h = hal.load()
    pins = tuple((owns or {}).get("pins", ()))
    n = len(pins)
    if n > _MAX_PINS:
        raise ValueError("gpio: at most 28 pins per server")
    st = [0] * (_W * n)
    i = 0
    while i < n:  # re-initialise: a restart starts clean
        st[i] = h.Pin(pins[i], hal.IN)
        st[i].irq(None)
        st[_SUB * n + i] = -1
        i += 1
    # The one-byte READ / TOGGLE reply, in this task's reply half: a server
    # never sends, so nothing else writes there.
    one = k.rbody[:1]
    while True:
        m = await k.recv(None, (1 << n) - 1)
        if m.sender < 0:  # edges: forward to the subscribers
            i = 0
            while i < n:
                v = st[_SUB * n + i]
                if m.bits >> i & 1 and v >= 0 and await k.notify(v, st[_BITS * n + i]) != _OK:
                    st[_SUB * n + i] = -1  # it died: drop it
                    st[i].irq(None)
                i += 1
            continue
        c = m.call  # what reply() answers
        op = m.op
        b = m.body
        if op < _READ or op > _SUBSCRIBE:
            await k.reply(c, _E_NOTSUP)
            continue
        v = m.len
        if v < 1 or (op == _WRITE and v < 2) or (op == _CONFIG and v < 3) or \
                (op == _SUBSCRIBE and v < 3):
            await k.reply(c, _E_BADARG)
            continue
        i = 0  # the pin's index in pins
        while i < n and pins[i] != b[0]:
            i += 1
        if i < n and rights is not None:  # may this badge use the pin?
            v = rights.get(m.badge)
            if v is None:
                v = rights.get(str(m.badge))
            if v is None or b[0] not in v:
                i = n
        if i == n:
            await k.reply(c, _E_DENIED)
            continue
        if op == _READ:
            one[0] = st[i].value()
            await k.reply(c, _OK, one)
        elif op == _WRITE or op == _TOGGLE:
            if op == _WRITE:
                v = b[1]
                if v > 1:
                    await k.reply(c, _E_BADARG)
                    continue
                if st[_CFG * n + i] & 1 != hal.OUT:  # becomes an output at that level
                    st[i] = h.Pin(b[0], hal.OUT, None, v)
                    st[_CFG * n + i] |= hal.OUT
                else:
                    st[i].value(v)
            else:
                st[i].toggle()
            one[0] = v = st[i].value()
            # The record: level | ticks_ms << 1, the time kept to 29 bits so
            # the sum stays a small int on a 32-bit port (masking the sum
            # with 0xFFFFFFFF built a long int there, on every WRITE).
            v |= (h.ticks_ms() & _PIN_TICKS_MASK) << 1
            trace.write(_TR_PIN, k.slot, b[0], v)
            await k.reply(c, _OK, one if op == _TOGGLE else None)
        elif op == _CONFIG:  # [pin, mode, pull(, value)]
            if b[1] > 1 or b[2] > 2:
                await k.reply(c, _E_BADARG)
                continue
            v = b[3] if m.len > 3 else None  # the initial output level
            st[i] = h.Pin(b[0], b[1], b[2] or None, v)
            v = st[_CFG * n + i] >> 1  # edges subscribed to
            st[_CFG * n + i] = v << 1 | b[1]
            if st[_SUB * n + i] >= 0 and b[1] == hal.IN:
                st[i].irq(k.slot, 1 << i, v)
            await k.reply(c, _OK)
        else:  # _SUBSCRIBE: [pin, edges, bit]
            v = b[1]
            if v > 3 or b[2] > 27:
                await k.reply(c, _E_BADARG)
                continue
            if st[_SUB * n + i] >= 0 and st[_SUB * n + i] != m.sender and v:
                # someone else has it; free it only if that client is gone
                if await k.notify(st[_SUB * n + i], 0) == _OK:
                    await k.reply(c, _E_BUSY)
                    continue
            st[_CFG * n + i] = v << 1 | st[_CFG * n + i] & 1
            if v:
                st[_SUB * n + i] = m.sender
                st[_BITS * n + i] = 1 << b[2]
                st[i].irq(k.slot, 1 << i, v)
            else:
                st[_SUB * n + i] = -1
                st[i].irq(None)
            await k.reply(c, _OK)
