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
from servers import right

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

# One record per owned pin, a list indexed by these names, for as long as
# the server runs (a list of five is 96 bytes on a 64-bit port; an object
# with five attributes and its class cost more).
_PIN = const(0)  # the hal Pin
_SUBSCRIBER = const(1)  # the subscriber's task id, -1 for none
_BITS = const(2)  # the notification bits it asked for (1 << bit)
_MODE = const(3)  # hal.IN or hal.OUT
_EDGES = const(4)  # the edges subscribed to (1 rising, 2 falling, 3 both), 0 for none


async def main(k, owns=None, rights=None, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    h = hal.load()
    numbers = tuple((owns or {}).get("pins", ()))  # pin i's interrupt is bit 1 << i
    if len(numbers) > _MAX_PINS:
        raise ValueError("gpio: at most 28 pins per server")
    pins = []  # pin i's record
    for number in numbers:  # (re)initialised: a restart starts clean
        p = [h.Pin(number, hal.IN), -1, 0, hal.IN, 0]
        p[_PIN].irq(None)  # no edges left from the previous instance
        pins.append(p)
    # The one-byte READ / TOGGLE reply, in this task's reply half: a server
    # never sends, so nothing else writes there.
    one = k.rbody[:1]
    while True:
        m = await k.recv(None, (1 << len(pins)) - 1)
        if m.sender < 0:  # interrupt bits, not a request: forward the edges
            for i in range(len(pins)):
                p = pins[i]
                if m.bits >> i & 1 and p[_SUBSCRIBER] >= 0 and \
                        await k.notify(p[_SUBSCRIBER], p[_BITS]) != _OK:
                    p[_SUBSCRIBER] = -1  # it died: drop it
                    p[_PIN].irq(None)
            continue

        # Every request: the op, the body's length, then the pin and the
        # caller's right to it, before any op touches the pin.
        op = m.op
        body = m.body
        if op < _READ or op > _SUBSCRIBE:
            await k.reply(m.call, _E_NOTSUP)
            continue
        if m.len < 1 or (op == _WRITE and m.len < 2) or (op == _CONFIG and m.len < 3) or \
                (op == _SUBSCRIBE and m.len < 3):
            await k.reply(m.call, _E_BADARG)
            continue
        number = body[0]
        allowed = numbers if rights is None else right(rights, m.badge) or ()
        if number not in numbers or number not in allowed:
            await k.reply(m.call, _E_DENIED)
            continue
        i = numbers.index(number)
        p = pins[i]

        if op == _READ:  # [pin] -> [level]
            one[0] = p[_PIN].value()
            await k.reply(m.call, _OK, one)

        elif op == _WRITE:  # [pin, level] -> []; the pin becomes an output
            level = body[1]
            if level > 1:
                await k.reply(m.call, _E_BADARG)
                continue
            if p[_MODE] != hal.OUT:  # made an output at that level, no glitch
                p[_PIN] = h.Pin(number, hal.OUT, None, level)
                p[_MODE] = hal.OUT
            else:
                p[_PIN].value(level)
            # The trace record: level | ticks_ms << 1, the time kept to 29
            # bits so the sum stays a small int on a 32-bit port (masking the
            # sum with 0xFFFFFFFF built a long int there, on every WRITE).
            level = p[_PIN].value()
            trace.write(_TR_PIN, k.slot, number, level | (h.ticks_ms() & _PIN_TICKS_MASK) << 1)
            await k.reply(m.call, _OK)

        elif op == _TOGGLE:  # [pin] -> [level after]
            p[_PIN].toggle()
            one[0] = level = p[_PIN].value()
            trace.write(_TR_PIN, k.slot, number, level | (h.ticks_ms() & _PIN_TICKS_MASK) << 1)
            await k.reply(m.call, _OK, one)

        elif op == _CONFIG:  # [pin, mode, pull(, value)] -> []
            mode = body[1]
            if mode > 1 or body[2] > 2:
                await k.reply(m.call, _E_BADARG)
                continue
            level = body[3] if m.len > 3 else None  # an output's first level
            p[_PIN] = h.Pin(number, mode, body[2] or None, level)
            p[_MODE] = mode
            if p[_SUBSCRIBER] >= 0 and mode == hal.IN:  # the new Pin keeps the subscription
                p[_PIN].irq(k.slot, 1 << i, p[_EDGES])
            await k.reply(m.call, _OK)

        else:  # _SUBSCRIBE: [pin, edges, bit] -> []; edges 0 unsubscribes
            edges = body[1]
            if edges > 3 or body[2] > 27:
                await k.reply(m.call, _E_BADARG)
                continue
            if p[_SUBSCRIBER] >= 0 and p[_SUBSCRIBER] != m.sender and edges:
                # someone else has it; take it over only if that client is gone
                if await k.notify(p[_SUBSCRIBER], 0) == _OK:
                    await k.reply(m.call, _E_BUSY)
                    continue
            p[_EDGES] = edges
            if edges:
                p[_SUBSCRIBER] = m.sender
                p[_BITS] = 1 << body[2]
                p[_PIN].irq(k.slot, 1 << i, edges)
            else:
                p[_SUBSCRIBER] = -1
                p[_PIN].irq(None)
            await k.reply(m.call, _OK)
