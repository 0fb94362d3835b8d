# heapsize: 320K
# flash_logger writes 40 records through the spi server (pages through
# leases of its region) to the rig's NOR flash (tests/firmware/lib/rig.py),
# reads them back and verifies; the chip holds them afterwards, read here
# straight over the bus.
import hal
import rig
import tasklog
from keep import caps, kernel

import srv_util
from apps.flash_logger import main as logger
from servers import spi

h = hal.load()
rig.connect(8192)
lines = tasklog.capture()
PAGE = (("page", 256, True),)  # as in apps/flash_logger/app.toml
srv_util.boot([PAGE])
kernel.spawn(spi.main, 1, "spi", {"owns": {"spi": ((rig.FLASH_BUS, rig.FLASH_CS),)},
                                  "devices": {"1": rig.FLASH_CS}})
kernel.spawn(logger.main, 3, "logger", {"records": 40, "period_ms": 1}, regions=PAGE)
caps.load(((), (), ((1, 1),)))
kernel.run(duration_ms=1000)
print(lines[0] == "logger: flash %06x" % rig.FLASH_JEDEC, "(the rig's flash found)")
for line in lines[1:]:
    print(line)
cs = h.Pin(rig.FLASH_CS, hal.OUT, value=1)
bus = h.SPI(rig.FLASH_BUS)
rec = bytearray(8)
cs.value(0)
bus.write_readinto(bytes((0x03, 0, 39 * 16 >> 8, 39 * 16 & 0xFF)) + bytes(4), rec)  # READ
cs.value(1)
print("record 39 in the chip:", bytes(rec[4:]))
