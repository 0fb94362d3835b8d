# The test rig a firmware test runs against, on the unix port or a board.
#
# The wiring is the board file's [test_wiring], the same on every board that
# has one: a jumper from PIN_OUT to PIN_IN, UART looped TX -> RX, a NOR
# flash on SPI bus FLASH_BUS with chip select FLASH_CS.
# - On the unix port (SIM) it is hal.sim's simulated world, which connect()
#   wires as boards/unix.toml says.
# - On the Pico it is the rig itself, jumpered (boards/rpi_pico.toml; the
#   emulated Pico models it).
# tests/host/test_boards.py checks that WIRING agrees with the board files.
#
# A test that needs more of the simulated world than the wiring (driving
# or sticking pins from outside, UART noise, NOR faults, hal.sim itself)
# calls needs_sim(what) first: on a board it prints the SKIP line saying so.
import sys

SIM = sys.platform in ("linux", "darwin")

# sys.platform -> (PIN_OUT, PIN_IN, UART, FLASH_BUS, FLASH_CS, FLASH_JEDEC)
WIRING = {
    "sim": (14, 15, 1, 1, 13, 0xEF4010),  # boards/unix.toml
    "rp2": (14, 15, 1, 0, 17, 0xEF4016),  # boards/rpi_pico.toml
    "esp32": (25, 26, 2, 2, 5, 0xEF4016),  # boards/esp32_devkitc.toml
}


def skip(why):
    """End the test as skipped here, saying why (MicroPython's tests' SKIP)."""
    print("SKIP", why)
    raise SystemExit


def needs_sim(what):
    if not SIM:
        skip(what + ": needs hal.sim's simulated world (the unix port), not a board's rig")


PIN_OUT, PIN_IN, UART, FLASH_BUS, FLASH_CS, FLASH_JEDEC = WIRING.get(
    "sim" if SIM else sys.platform, (None,) * 6)
if PIN_OUT is None:
    skip("no [test_wiring] known for " + sys.platform + " (tests/firmware/lib/rig.py)")


def connect(nor_size=65536):
    """Wire the simulated rig (a board's is wired already); returns the
    simulated NOR flash on the unix port, None on a board. nor_size=None
    leaves the flash out, for a test that never touches it (its memory
    image is nor_size bytes of the test's heap)."""
    global FLASH_JEDEC
    if not SIM:
        return None
    from hal.sim import world

    world.wire(PIN_OUT, PIN_IN)
    if nor_size is None:
        return None
    FLASH_JEDEC = 0xEF4000 | len(bin(nor_size)) - 3  # what the model answers: log2(size)
    return world.attach_nor(FLASH_BUS, FLASH_CS, nor_size)


def jedec_bytes():
    """The rig's flash's JEDEC id as the chip sends it."""
    return bytes((FLASH_JEDEC >> 16, FLASH_JEDEC >> 8 & 0xFF, FLASH_JEDEC & 0xFF))


def scratch():
    """A directory for a test's scratch files: a new one under /tmp on the
    unix port; on a board (no /tmp) `scratch` beside the tests, reused."""
    import os

    if SIM:
        import time

        path = "/tmp/keep_fwtest_%d" % time.ticks_us()
    else:
        path = os.getcwd().rstrip("/") + "/scratch"
    try:
        os.mkdir(path)
    except OSError:
        pass  # a board's, from an earlier run
    return path


def hal_name():
    """The HAL a table for this port names (hal.load's argument)."""
    return "sim" if SIM else sys.platform
