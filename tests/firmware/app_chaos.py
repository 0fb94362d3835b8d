# heapsize: 256K
# The chaos app end to end: flaky crashes in all four ways, the supervisor
# (servers/supervisor.py) restarts it, the client keeps working and loses
# nothing; the real drivers keep answering throughout, on the rig
# (tests/firmware/lib/rig.py: the LED on PIN_OUT, the looped UART, the NOR).
import hal
import rig
import tasklog
from keep import caps, kernel

import srv_util
from apps.chaos import flaky
from apps.chaos import main as chaos
from servers import gpio, spi, uart

hal.load()
rig.connect(4096)
lines = tasklog.capture()
srv_util.boot(backoff_ms=10)
kernel.spawn(gpio.main, 1, "gpio", {"owns": {"pins": (rig.PIN_OUT,)}, "rights": {"1": [rig.PIN_OUT]}})
kernel.spawn(uart.main, 1, "uart", {"owns": {"uart": (rig.UART,)}, "rights": {"1": rig.UART},
                                    "rxbuf": 64})
kernel.spawn(spi.main, 1, "spi", {"owns": {"spi": ((rig.FLASH_BUS, rig.FLASH_CS),)},
                                  "devices": {"1": rig.FLASH_CS}})
kernel.spawn(flaky.main, 2, "flaky", {"crash_every_ms": 500, "first_ms": 300})
kernel.spawn(chaos.main, 3, "chaos", {"period_ms": 2, "report_ms": 500, "led": rig.PIN_OUT})
caps.load(((), (), (), (), (), ((1, 1), (2, 1), (3, 1), (4, 1))))
kernel.run(duration_ms=2600)

bugs = sorted(set(ln for ln in lines if ln.startswith("flaky: bug")))
print(bugs)
last = [ln for ln in lines if ln.startswith("chaos:")][-1]
f = dict(kv.split("=") for kv in last.split()[1:])
f = {k: int(v) for k, v in f.items()}
print("lost", f["lost"], "drivers", f["drivers"])
print("served > 100:", f["served"] > 100)
print("requests = served + errors + lost:", f["requests"] == f["served"] + f["errors"] + f["lost"])
print("restarts seen >= 4:", f["restarts"] >= 4, "dead >= 3:", f["dead"] >= 3, "bad >= 1:", f["bad"] >= 1)
print("flaky restarts by the kernel >= 4:", kernel.tcb.restarts[4] >= 4)
print("servers never faulted:", [kernel.tcb.restarts[s] for s in (1, 2, 3)])
