"""Simulated SPI buses: devices are picked by their chip-select pin.

A device model is attached to (bus, cs pin). The firmware drives the CS
pin low through an ordinary hal Pin; the pin block tells the device
(select / deselect, where commands take effect), and while it is selected
every byte the bus clocks goes to it. With nothing selected, MISO floats
high and reads 0xFF, as on a board with a pull-up.

Device model interface: select(), deselect(), xfer(byte) -> byte, and a
`fault` attribute (0 = healthy, DEAD = 1: MISO stuck at 0xFF and commands
ignored, NEVER_READY = 2: the device answers but stays busy forever; the
names are in hal.sim.world, which the host and tests use to set them).

Invariants:
- A transfer allocates nothing that is the task's: bytes move one at a
  time through xfer, and what the Python device models allocate doing so
  (select, xfer, deselect) is counted in hw_alloc, which hal.sim's
  heap_meter leaves out of the kernel's heap budgets.
- Only one device per bus is selected; selecting a second one while the
  first is still selected takes over the bus (real hardware would garble).
"""

from micropython import const, mem_total

from hal.sim import pins

_NBUSES = const(4)
_OUT = const(1)  # hal.OUT
_PULL_UP = const(1)  # hal.PULL_UP
_NONE = const(0xFF)  # pins._NONE
_MODE = const(0)  # pins._MODE: rows of pins.tab
_PULL = const(48)  # pins._PULL
_STUCK = const(192)  # pins._STUCK
_CS = const(480)  # pins._CS

devices = []  # attached models, index + 1 stored in pins.tab[world.CS + pin]
_sel = bytearray(_NBUSES)  # per bus: 1 + index of the selected device, 0 = none
hw_alloc = [0]  # bytes the device models allocated (see the invariants)


def _cs_changed(d, level):
    t = mem_total()
    dev = devices[d]
    if level:
        if _sel[dev.bus] == d + 1:
            _sel[dev.bus] = 0
        dev.deselect()
    else:
        _sel[dev.bus] = d + 1
        dev.select()
    hw_alloc[0] += mem_total() - t


pins._cs_hook = _cs_changed


def attach(bus, cs, dev):
    """Put device model `dev` on `bus` with chip select pin `cs`."""
    dev.bus = bus
    dev.cs = cs
    devices.append(dev)
    t = pins.tab
    t[_CS + cs] = len(devices)
    if t[_STUCK + cs] == _NONE and t[_MODE + cs] != _OUT:
        t[_PULL + cs] = _PULL_UP  # CS lines have a pull-up: deselected at boot
        pins.update(cs)
    return dev


class SPI:
    """hal SPI bus on the simulator."""

    def __init__(self, bus, baudrate=1000000, polarity=0, phase=0,
                 sck=None, mosi=None, miso=None):
        if not 0 <= bus < _NBUSES:
            raise ValueError("sim spi bus out of range")
        self.bus = bus
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase

    def init(self, baudrate=None, polarity=None, phase=None):
        if baudrate is not None:
            self.baudrate = baudrate
        if polarity is not None:
            self.polarity = polarity
        if phase is not None:
            self.phase = phase

    # Each byte goes to the device selected now (0xFF when none: MISO pulled up).
    # The device models are Python, and their per-byte work allocates on the
    # unix port (frames too big for the VM's C stack); a board's SPI
    # allocates nothing, so what they allocate is counted in hw_alloc and
    # left out of the tasks' heap budgets (hal.sim.heap_meter).
    def write(self, buf):
        t = mem_total()
        for i in range(len(buf)):
            d = _sel[self.bus]
            if d:
                devices[d - 1].xfer(buf[i])
        hw_alloc[0] += mem_total() - t

    def readinto(self, buf, fill=0xFF):
        t = mem_total()
        for i in range(len(buf)):
            d = _sel[self.bus]
            buf[i] = devices[d - 1].xfer(fill) if d else 0xFF
        hw_alloc[0] += mem_total() - t

    def write_readinto(self, wbuf, rbuf):
        t = mem_total()
        for i in range(len(wbuf)):
            d = _sel[self.bus]
            rbuf[i] = devices[d - 1].xfer(wbuf[i]) if d else 0xFF
        hw_alloc[0] += mem_total() - t

    def deinit(self):
        pass
