# heapsize: 256K
# blinky toggles the LED through the gpio server: the sim pin's output
# history shows the blinks, and the log counts the cycles.
from hal.sim import world
from keep import caps, kernel

from apps.blinky import main as blinky
from servers import gpio

kernel.boot(echo_text=True)
kernel.spawn(gpio.main, 1, "gpio", {"owns": {"pins": (2,)}, "rights": {"1": [2]}})
kernel.spawn(blinky.main, 3, "blinky", {"pin": 2, "period_ms": 10, "cycles": 3})
caps.load(((), ((0, 1),)))
kernel.run(duration_ms=300)
print("levels", [lv for p, lv, t in world.history(2)])
