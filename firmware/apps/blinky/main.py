"""blinky: toggle the LED through the gpio server, log every cycle.

args: pin (the LED), period_ms (half a blink), cycles (0 = forever).
"""

from clients.gpio import Gpio


async def main(k, pin=2, period_ms=250, cycles=0):
    g = Gpio(k)
    await g.configure(pin, g.OUT, value=0)
    n = 0
    while not cycles or n < cycles:
        await g.write(pin, 1)
        await k.sleep_ms(period_ms)
        await g.write(pin, 0)
        await k.sleep_ms(period_ms)
        n += 1
        await k.log("blinky: cycle %d" % n)
