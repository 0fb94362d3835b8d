# Declared hot path (docs/performance.md, "Rules"): poll(), run on every
# kernel tick, and what it calls. MicroPython speed and RAM tricks are allowed
# there, each under one of those rules; the rest of this module is plain code.
"""HAL for the unix port: simulated pins, UARTs, SPI devices, watchdog.

Same interface as hal.esp32 / hal.rp2 (see hal/__init__.py), so servers
run unchanged on the virtual board. Extra, sim-only calls:

  heap_reserved()           heap bytes the ROMFS partition takes
  heap_meter()              bytes allocated so far, less what the simulated
                            devices allocated (runtime.bootload makes it the
                            kernel's heap meter: a board's peripherals
                            allocate nothing, so neither do these, for the
                            tasks' heap budgets)

What tests and the control channel do to the outside world (attach_nor,
drive, stuck, wire, history, UART noise/modes/inject, serve, ...) is in
hal.sim.world, which loads only when used.

Boot configuration from the environment (read by start(), run on import):
  KEEP_SIM_CTL_PORT=<port>   listen for the host on 127.0.0.1:<port>
  KEEP_SIM_NOR=bus:cs:size[:path] | none
                             the NOR flash. `keep vboard` always sets it
                             from the board file (boards/unix.toml
                             test_wiring.spi_flash); without it, when
                             KEEP_SIM_CTL_PORT is set: DEFAULT_NOR (the same
                             wiring: bus 1, CS 13, 64 KB in sim_nor0.bin in
                             the working directory, the board's flash)
  KEEP_SIM_ROMFS_BYTES=<n>   the ROMFS partition at the bottom of the heap
                             (heap_reserved(); `keep vboard` sets it)
  KEEP_SIM_STATE_DIR=<dir>   where the reset-cause and world files live
                             (default .); delete .keep_sim_world there for
                             a power-on with nothing attached

Invariants:
- poll() allocates nothing when nothing happened; idle() = poll() plus a
  1 ms sleep, the simulated "wait for the next interrupt".
"""

import os
from time import sleep_ms, ticks_add, ticks_diff, ticks_ms, ticks_us  # noqa: F401

from micropython import const, mem_total

from hal.sim import spi, uart, wdt
from hal.sim.pins import Pin  # noqa: F401
from hal.sim.spi import SPI  # noqa: F401
from hal.sim.uart import UART  # noqa: F401
from hal.sim.wdt import WDT, reset, reset_cause, reset_culprit  # noqa: F401

NAME = "sim"
_TYP_PROG_US = const(700)  # nor._TYP_PROG_US: the board's NOR, timed like a typical one
_TYP_ERASE_US = const(30000)  # nor._TYP_ERASE_US
DEFAULT_NOR = "1:13:65536:sim_nor0.bin"
WORLD_FILE = ".keep_sim_world"  # hal.sim.ctl's remembered world, beside the reset cause

# The control channel's socket opens at boot, but hal.sim.ctl (~150 interned
# names and ~3 K of code objects) loads only when the host first connects,
# or at boot when a remembered world must be re-applied: a board nobody
# steers (the demo) never pays for it.
_ctl = [None, None, None]  # hal.sim.ctl once loaded; until then the listening socket, its poller


def heap_meter():
    return mem_total() - spi.hw_alloc[0]


def heap_reserved():
    """Heap bytes the virtual board gives what a real board keeps outside
    the heap: its ROMFS partition (mapped into the bottom of the heap; on a
    board it is flash) and the simulated peripherals' state (pin, UART and
    SPI tables, the NOR model, the control socket; on a board, silicon).
    The host adds both on top of the firmware's heap (boards/unix.toml
    [memory]); runtime.boot subtracts them from its heap reports."""
    return int(os.getenv("KEEP_SIM_ROMFS_BYTES") or 0) + int(os.getenv("KEEP_SIM_DEVICES_BYTES") or 0)


# poll() runs on every kernel tick and idle turn. Like every function it
# calls there, it keeps its frame within the 11 words MicroPython puts on
# the C stack: a bigger frame is allocated on the heap for each call (freed
# at once, but in a nearly full heap each one makes the collector run).
def poll():
    c = _ctl[0]
    if c is not None:
        c.poll()
    elif _ctl[2] is not None:
        _accept()
    uart.poll()
    w = wdt._active
    if w is not None:
        w._check()  # fire the running watchdog if it expired


def _accept():
    """Adopt the host's connection once it arrives (ipoll allocates nothing)."""
    for _ in _ctl[2].ipoll(0):
        from hal.sim import ctl

        ctl.adopt(_ctl[1])
        _ctl[0] = ctl
        _ctl[1] = _ctl[2] = None
        ctl.poll()
        break


def idle():
    poll()
    sleep_ms(1)


def start():
    port = os.getenv("KEEP_SIM_CTL_PORT")
    nor = os.getenv("KEEP_SIM_NOR")
    if nor is None and port:
        nor = DEFAULT_NOR
    if nor and nor != "none":
        from hal.sim.nor import NorFlash

        f = nor.split(":")
        spi.attach(int(f[0]), int(f[1]),
                   NorFlash(int(f[2]), f[3] if len(f) > 3 and f[3] else None, _TYP_PROG_US, _TYP_ERASE_US))
    if port and _ctl[0] is None and _ctl[1] is None:
        # Open the control channel; hal.sim.ctl loads on the host's first connection.
        import select
        import socket

        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo("127.0.0.1", int(port))[0][-1])
        s.listen(1)
        s.setblocking(False)
        _ctl[1] = s
        p = select.poll()
        p.register(s, select.POLLIN)
        _ctl[2] = p
        try:
            os.stat(wdt._path(WORLD_FILE))
        except OSError:
            return  # no world to re-apply
        from hal.sim import ctl  # a remembered world: re-apply it before the firmware runs

        ctl.adopt(s)
        _ctl[0] = ctl
        _ctl[1] = _ctl[2] = None
        ctl.restore_world()


start()
del start  # runs once: its function object need not stay on the heap
