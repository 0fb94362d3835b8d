"""HAL for the ESP32 port: hal.mach with the ESP32's limits.

Port facts this relies on (MicroPython esp32 docs):
- Pin.irq(handler, trigger, hard=True) runs the handler in the GPIO ISR.
- UART(id, baudrate=, tx=, rx=, rxbuf=, timeout=0): ids 0..2, 0 is the
  REPL; any GPIO via the matrix, pins 34..39 input only (rx only).
- SPI ids 1 (HSPI) and 2 (VSPI), any pins (40 MHz max off the defaults).
- WDT(timeout=ms): minimum 1000 ms, cannot be stopped or reconfigured.
- machine.reset() is an esp_restart: the next boot says SOFT_RESET.
"""

from hal import mach
from hal.mach import (SPI, UART, Pin, idle, poll, reset, reset_cause, sleep_ms,  # noqa: F401
                      ticks_add, ticks_diff, ticks_ms, ticks_us)

NAME = "esp32"


class WDT(mach.WDT):
    MIN_MS = 1000
