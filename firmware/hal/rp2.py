"""HAL for the rp2 port (RP2040): hal.mach with the RP2040's limits.

Port facts this relies on (MicroPython rp2 docs):
- Pin.irq(handler, trigger, hard=True) runs the handler in the IO IRQ.
- UART ids 0 and 1, tx/rx given as Pin objects, rxbuf and timeout=0.
- SPI ids 0 and 1, sck/mosi/miso as Pin objects.
- WDT(timeout=ms): the hardware counter allows at most 8388 ms; cannot be
  stopped once started.
- reset_cause() only knows PWRON_RESET and WDT_RESET, and machine.reset()
  reboots through the watchdog, so a deliberate reset() reads back as
  WDT_RESET on this chip; the kernel should write its own marker before a
  deliberate reset if it needs to tell the two apart.
"""

from hal import mach
from hal.mach import (SPI, UART, Pin, idle, poll, reset, reset_cause, sleep_ms,  # noqa: F401
                      ticks_add, ticks_diff, ticks_ms, ticks_us)

NAME = "rp2"


class WDT(mach.WDT):
    MAX_MS = 8388
