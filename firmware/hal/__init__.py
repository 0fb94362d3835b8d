"""HAL: the one door to the hardware. Only firmware/hal imports `machine`.

Servers call `hal.load()` once and use what it returns; the same server code
then runs on an ESP32, an RP2040 or the simulated board on the unix port.

Every implementation (hal.esp32, hal.rp2, hal.sim) exposes the same names:

    Pin(num, mode, pull=None, value=None)
        .value() -> 0|1 / .value(v) / .toggle()
        .irq(slot, bits, edges=BOTH)   edge -> keep.irq.post(slot, bits)
        .irq(None)                     disable
        .deinit()
    UART(id, baudrate=115200, bits=8, parity=None, stop=1, tx=None, rx=None,
         rxbuf=256)
        .write(buf) -> n / .readinto(buf, n=None) -> n (0 when empty, never
        blocks) / .any() -> n / .init(baudrate=, bits=, parity=, stop=)
        .notify(slot, bits)   RX data -> keep.irq.post(slot, bits)
        .deinit()
    SPI(bus, baudrate=1000000, polarity=0, phase=0, sck=None, mosi=None,
        miso=None)
        .write(buf) / .readinto(buf, fill=0xFF) / .write_readinto(wbuf, rbuf)
        .init(baudrate=, polarity=, phase=) / .deinit()
        chip selects are Pin objects the caller drives (low = selected)
    WDT(timeout_ms) .feed() .timeout_ms
    ticks_ms() ticks_us() ticks_diff(a, b) ticks_add(t, d) sleep_ms(n)
    reset_cause() -> PWRON_RESET|HARD_RESET|WDT_RESET|DEEPSLEEP_RESET|SOFT_RESET
    reset()   idle()   poll()
    NAME      "esp32" | "rp2" | "sim"

Invariants:
- Interrupt paths (pin edges, UART RX notification) only call
  keep.irq.post with preallocated ints: no allocation, safe in hard IRQs.
- poll() is cheap and allocation-free when nothing happened; the kernel
  calls it from its tick and when idle (it delivers UART RX notifications on
  boards and runs the simulator's control channel on the unix port).
- The numbers below are the HAL's own, identical on every implementation;
  each implementation maps the port's constants onto them.
"""

from micropython import const

# pin modes and pulls
IN = const(0)
OUT = const(1)
PULL_UP = const(1)
PULL_DOWN = const(2)

# edges for Pin.irq
RISING = const(1)
FALLING = const(2)
BOTH = const(3)

# reset causes (same numbers as the ESP32 port's machine constants)
UNKNOWN_RESET = const(0)
PWRON_RESET = const(1)
HARD_RESET = const(2)
WDT_RESET = const(3)
DEEPSLEEP_RESET = const(4)
SOFT_RESET = const(5)
RESET_NAMES = ("unknown", "pwron", "hard", "wdt", "deepsleep", "soft")


def load(name=None):
    """Return the implementation module: 'esp32', 'rp2' or 'sim' (None: the
    one for this interpreter, from sys.platform).

    Imported lazily so a board never loads the simulator and the unix port
    never imports a port-specific `machine` API it lacks. The platform map
    is code, not a module-level dict (nor a second function): those would
    stay in the heap for a lookup made only when a server starts.
    """
    if name is None:
        import sys

        name = sys.platform
        if name == "linux" or name == "darwin":
            name = "sim"
        elif name != "esp32" and name != "rp2":
            raise OSError("hal: no implementation for platform " + name)
    if name == "esp32":
        from hal import esp32 as impl
    elif name == "rp2":
        from hal import rp2 as impl
    elif name == "sim":
        import hal.sim as impl
    else:
        raise ValueError("hal: unknown implementation " + name)
    return impl
