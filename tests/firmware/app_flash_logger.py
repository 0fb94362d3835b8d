# heapsize: 320K
# flash_logger writes 40 records through the spi server (pages through
# leases of its region), reads them back and verifies; the flash model
# holds them afterwards.
import hal
from hal.sim import world
from keep import caps, kernel

import srv_util
from apps.flash_logger import main as logger
from servers import spi

hal.load()
nor = world.attach_nor(1, 13, 8192)
PAGE = (("page", 256, True),)  # as in apps/flash_logger/app.toml
srv_util.boot([PAGE], echo_text=True)
kernel.spawn(spi.main, 1, "spi", {"owns": {"spi": ((1, 13),)}, "devices": {"1": 13}})
kernel.spawn(logger.main, 3, "logger", {"records": 40, "period_ms": 1}, regions=PAGE)
caps.load(((), (), ((1, 1),)))
kernel.run(duration_ms=1000)
print("record 39 in the chip:", bytes(nor._mem[39 * 16:39 * 16 + 4]))
