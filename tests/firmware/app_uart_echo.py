# heapsize: 256K
# uart_echo sends back what the host injects on a host-mode line.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("puts the UART line in host mode and injects bytes from outside")

import hostline
from hal.sim import world
from keep import caps, kernel

from apps.uart_echo import main as echo
from servers import uart

world.set_mode(1, world.HOST)
kernel.boot(echo_text=True)
kernel.spawn(uart.main, 1, "uart", {"owns": {"uart": (1,)}, "rights": {"1": 1}})
kernel.spawn(echo.main, 3, "echo", {"bit": 0, "limit": 11})


kernel.spawn(hostline.typist(1, (b"hello ", b"world")), 4, "host")
caps.load(((), ((0, 1),), ()))
kernel.run(duration_ms=200)
print("tx", world.take_tx(1))
