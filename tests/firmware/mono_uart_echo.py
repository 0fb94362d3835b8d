# heapsize: 256K
# uart_echo in the monolithic build (clients/direct.py): the uart driver
# runs in the echo task, and its "data arrived" interrupt reaches the app
# through direct.system's forwarding (the driver's own code notifying the
# subscriber), as the uart server does in app_uart_echo.py.
import rig

rig.needs_sim("puts the UART line in host mode and injects bytes from outside")

import hostline  # noqa: E402
from hal.sim import world  # noqa: E402
from keep import caps, kernel, svc, tcb  # noqa: E402

from apps.uart_echo import main as echo  # noqa: E402
from clients import direct  # noqa: E402

world.set_mode(1, world.HOST)
kernel.boot(echo_text=True)
UART = ("servers.uart", "main", {"rights": {"1": 1}}, {"uart": (1,)}, {1: 1})
kernel.spawn(direct.system, 0, "system", {"drivers": {"uart": UART}, "reboot": kernel.stop})
svc.set_supervisor(0)
kernel.spawn(echo.main, 3, "echo", {"bit": 0, "limit": 11})


kernel.spawn(hostline.typist(1, (b"hello ", b"world")), 4, "host")
caps.load(((), (), ()))
kernel.run(duration_ms=200)
print("tx", world.take_tx(1))
print("tasks", [tcb.name[s] for s in range(tcb.ntasks)])
