"""hil: load and edge tasks.

load   while switched on (bit 0 from the hil controller; bit 1 switches it
       off), reads the input pin through the gpio server and the flash's
       JEDEC id through the spi server every period_ms, and logs
       `load: ok=N err=E dead=D` every report_ms. A server that crashes
       under it costs at most the calls in flight (idempotent: retried).
edges  subscribes to both edges of the input pin and logs
       `edge: pin=P level=L n=N` for each notification.
"""

import time

from clients.base import ServerError
from clients.gpio import Gpio
from clients.flash import Flash


async def load(k, in_pin=15, period_ms=2, report_ms=250, **_):
    g = Gpio(k)
    f = Flash(k)
    ok = err = 0
    on = False
    t_rep = time.ticks_ms()
    while True:
        m = await k.wait(3, None if not on else 0)
        if m.bits & 1:
            on = True
            await k.log("load: on")
        if m.bits & 2:
            on = False
            await k.log("load: off ok=%d err=%d dead=%d" % (ok, err, g.dead_seen + f.spi.dead_seen))
        if not on:
            continue
        try:
            await g.read(in_pin)
            await f.jedec()
            ok += 1
        except ServerError:
            err += 1
        if time.ticks_diff(time.ticks_ms(), t_rep) >= report_ms:
            t_rep = time.ticks_ms()
            await k.log("load: ok=%d err=%d dead=%d" % (ok, err, g.dead_seen + f.spi.dead_seen))
        await k.sleep_ms(period_ms)


async def edges(k, in_pin=15, **_):
    g = Gpio(k)
    await g.configure(in_pin, 0)
    await g.subscribe(in_pin, 3, 1)
    n = 0
    while True:
        m = await k.wait(2, 200)
        if m.bits & 2:
            n += 1
            await k.log("edge: pin=%d level=%d n=%d" % (in_pin, await g.read(in_pin), n))
        else:
            try:
                await g.read(in_pin)  # a restarted gpio server: resubscribes
            except ServerError:
                pass
