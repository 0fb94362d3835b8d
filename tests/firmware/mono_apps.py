# heapsize: 256K
# The monolithic build (clients/direct.py): the stock apps with their
# drivers called in the app's task - slot 0 is direct.system, no server
# tasks, no supervisor - on the rig (tests/firmware/lib/rig.py). The same
# app code and client API as the app_* tests: blinky blinks, flash_logger
# writes and verifies, chaos is served by flaky and the real drivers until
# flaky's first bug, which takes the system down (a reboot), where Keep's
# supervisor restarts flaky alone (app_chaos.py).
import hal
import rig
import tasklog
from keep import caps, kernel, mem, svc, tcb, trace

from clients import direct

h = hal.load()
rig.connect(8192)
lines = tasklog.capture()
reboots = []


def reboot():
    reboots.append(kernel.now_ms())
    kernel.stop()


def boot(drivers, regions=()):
    """What keep.boot does with a monolithic table's slot 0."""
    del lines[:]
    del reboots[:]
    kernel.boot()
    mem.init(mem.need(regions, "sim"), "sim")
    kernel.spawn(direct.system, 0, "system", {"drivers": drivers, "reboot": reboot})
    svc.set_supervisor(0)


LED = rig.PIN_OUT
GPIO = ("servers.gpio", "main", {"rights": {"1": [LED]}}, {"pins": (LED,)}, {1: 1})
SPI = ("servers.spi", "main", {"devices": {"1": rig.FLASH_CS}},
       {"spi": ((rig.FLASH_BUS, rig.FLASH_CS),)}, {1: 1})

# blinky: the gpio driver in blinky's task
from apps.blinky import main as blinky  # noqa: E402

boot({"gpio": GPIO})
kernel.spawn(blinky.main, 3, "blinky", {"pin": LED, "period_ms": 10, "cycles": 3})
caps.load(((), ()))
kernel.run(duration_ms=300)
print("blinky", lines, "tasks", [tcb.name[s] for s in range(tcb.ntasks)], "reboots", len(reboots))
print("levels", [r[3] & 1 for r in trace.records() if r[0] == 22 and r[2] == LED])

# flash_logger: the spi driver, pages through a lease of the app's own region
from apps.flash_logger import main as logger  # noqa: E402

PAGE = (("page", 256, True),)
boot({"spi": SPI}, [(), PAGE])
kernel.spawn(logger.main, 3, "logger", {"records": 40, "period_ms": 1}, regions=PAGE)
caps.load(((), ()))
kernel.run(duration_ms=1000)
print(lines[0] == "logger: flash %06x" % rig.FLASH_JEDEC, "(the rig's flash found)")
print(lines[1:], "reboots", len(reboots))

# chaos: flaky and the three drivers in chaos's task, until flaky's first bug
from apps.chaos import flaky  # noqa: E402
from apps.chaos import main as chaos  # noqa: E402

UART = ("servers.uart", "main", {"rights": {"1": rig.UART}, "rxbuf": 64}, {"uart": (rig.UART,)},
        {1: 1})
FLAKY = ("apps.chaos.flaky", "main", {"crash_every_ms": 500, "first_ms": 400}, None, {1: 1})
flaky.next_bug = flaky.started = 0
boot({"gpio": GPIO, "uart": UART, "spi": SPI, "flaky": FLAKY})
kernel.spawn(chaos.main, 3, "chaos", {"period_ms": 2, "report_ms": 100, "led": LED})
caps.load(((), ()))
t0 = kernel.now_ms()
kernel.run(duration_ms=3000)
last = [ln for ln in lines if ln.startswith("chaos:")][-1]
f = {kv.split("=")[0]: int(kv.split("=")[1]) for kv in last.split()[1:]}
print("tasks", [tcb.name[s] for s in range(tcb.ntasks)])
# served > 0, not a count: how many requests fit before flaky's first bug
# depends on how fast the host drains the board's console
print("served:", f["served"] > 0, "errors", f["errors"], "lost", f["lost"], "drivers",
      f["drivers"])
print("bug, then the system went down:", [ln for ln in lines if ln.startswith(("flaky", "system"))])
print("one reboot, after flaky's first bug:", len(reboots), reboots[0] - t0 >= 400 if reboots else None)
print("faults seen by system:", direct.faults[0])
