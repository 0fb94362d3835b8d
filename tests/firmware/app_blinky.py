# heapsize: 256K
# blinky toggles the LED through the gpio server, here the rig's PIN_OUT
# (tests/firmware/lib/rig.py): the server's TR_PIN records (each the level
# it read back from the pin after the write) show the blinks, and the log
# counts the cycles.
import rig
from keep import abi, caps, kernel, trace

from apps.blinky import main as blinky
from servers import gpio

rig.connect(nor_size=None)  # blinky never touches the flash
LED = rig.PIN_OUT
kernel.boot(echo_text=True)
kernel.spawn(gpio.main, 1, "gpio", {"owns": {"pins": (LED,)}, "rights": {"1": [LED]}})
kernel.spawn(blinky.main, 3, "blinky", {"pin": LED, "period_ms": 10, "cycles": 3})
caps.load(((), ((0, 1),)))
kernel.run(duration_ms=300)
print("levels", [r[3] & 1 for r in trace.records() if r[0] == abi.TR_PIN and r[2] == LED])
