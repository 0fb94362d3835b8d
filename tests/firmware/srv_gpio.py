# heapsize: 256K
# gpio server: ownership, rights by badge, read/write/toggle/configure, edge
# notifications, bad input, and a crash in the middle of a call.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("drives pins from outside and breaks hal.sim's Pin in mid-call")

import hal
from hal.sim import pins, world
from keep import abinames, caps, kernel

import srv_util
from clients.base import ServerError
from clients.gpio import Gpio
from servers import gpio

h = hal.load()
srv_util.boot()
kernel.spawn(gpio.main, prio=1, name="gpio",
             args={"owns": {"pins": (2, 4, 5)}, "rights": {"1": [2, 4], "2": [4, 5]}})


def rc_of(e):
    return abinames.RC_NAMES[e.args[0]]


async def app(k):
    g = Gpio(k)
    await g.write(2, 1)
    print("write 2 ->", pins.tab[world.LEVEL + 2], "read", await g.read(2))
    print("toggle 2 ->", await g.toggle(2), pins.tab[world.LEVEL + 2])
    await g.configure(4, g.IN, g.PULL_UP)
    print("pull-up 4 reads", await g.read(4))
    for pin in (5, 7):  # 5: owned, not this badge's; 7: not owned at all
        try:
            await g.read(pin)
        except ServerError as e:
            print("read", pin, rc_of(e))
    # raw sends: unknown op, short bodies, bad values
    sid = k.lookup("gpio")
    for op, body in ((9, b"\x02"), (1, b""), (2, b"\x02"), (2, b"\x02\x05"),
                     (4, b"\x04\x07\x00"), (5, b"\x04\x01\x40")):
        r = await k.send(sid, op, body)
        print("op", op, body, abinames.RC_NAMES[r.rc])
    # edges become notification bits
    await g.subscribe(4, g.FALLING, bit=3)
    world.drive(4, 0)
    m = await k.wait(1 << 3, 200)
    print("falling edge ->", abinames.RC_NAMES[m.rc], m.bits == 1 << 3)
    world.drive(4, 1)
    m = await k.wait(1 << 3, 50)
    print("rising edge ignored ->", abinames.RC_NAMES[m.rc])
    # crash mid-call: the sim pin raises inside the server's READ
    real = pins.Pin.value

    def broken(self, v=None):
        pins.Pin.value = real
        raise OSError(5)

    pins.Pin.value = broken
    r = await k.send(sid, 1, b"\x02")
    print("call in flight when the server crashed ->", abinames.RC_NAMES[r.rc])
    r = await k.send(sid, 1, b"\x02")
    print("same id afterwards ->", abinames.RC_NAMES[r.rc])
    # the client library re-looks-up, retries READ once, and resubscribes
    pins.Pin.value = broken
    print("client read through a crash ->", await g.read(4), "dead seen", g.dead_seen)
    print("restarts", srv_util.restarts())
    world.drive(4, 0)
    m = await k.wait(1 << 3, 200)
    print("edge after restart ->", abinames.RC_NAMES[m.rc])
    pins.Pin.value = broken
    try:
        print("toggle returned", await g.toggle(2))
    except ServerError as e:
        print("toggle through a crash (not retried) ->", rc_of(e))
    await g.write(2, 0)
    print("write after restart ->", pins.tab[world.LEVEL + 2])


async def other(k):
    g = Gpio(k)
    await k.sleep_ms(20)
    try:
        await g.subscribe(4, g.BOTH, 1)
    except ServerError as e:
        print("other: subscribe 4 ->", rc_of(e))
    await g.write(5, 1)
    print("other: write 5 ->", pins.tab[world.LEVEL + 5])


kernel.spawn(app, prio=2, name="app")
kernel.spawn(other, prio=3, name="other")
caps.load(((), (), ((1, 1),), ((1, 2),)))
kernel.run(duration_ms=1500)
print("faults", [abinames.FAULT_NAMES[r.kind] for r in kernel.fault.records.values()])
