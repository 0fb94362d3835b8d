# heapsize: 320K
# spi server: a NOR flash shared through per-badge chip selects, leases,
# bad input, a device that stops answering, and crashes mid-call.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("makes the flash dead or never ready and breaks hal.sim's SPI in mid-call")

import hal
from hal.sim import pins
from hal.sim import spi as simspi
from hal.sim import world
from keep import abi, abinames, caps, fault, kernel

import srv_util
from clients.base import ServerError
from clients.flash import Flash
from clients.spi import Spi
from servers import spi

h = hal.load()
nor = world.attach_nor(1, 13, 8192)
BUF = (("buf", 512, True),)
srv_util.boot([BUF])
kernel.spawn(spi.main, prio=1, name="spi",
             args={"owns": {"spi": ((1, 13), (1, 12))}, "devices": {"1": 13, "2": 12}})


def rc_of(e):
    return abinames.RC_NAMES[e.args[0]]


async def app(k):
    f = Flash(k)
    print("jedec %06x" % await f.check())
    await f.erase(0)
    await f.program(0x10, b"hello flash")
    print("read ->", await f.read(0x10, 11))
    reg = k.region("buf")
    reg.write(0, bytes(range(256)))
    await f.program(0x100, lease=reg.lease(0, 256, False))
    await f.read(0x100, lease=reg.lease(256, 256, True))
    print("256 B through leases ->", reg.read(256, 256) == reg.read(0, 256))
    await f.spi.config(2000000, 3)
    print("config ->", await f.read(0x10, 5))
    sid = k.lookup("spi")
    for what, body, ls in (("lease too short", b"\x00\x00\x00\x00\x00\x02\x03\x00\x00\x00",
                            reg.lease(0, 16, True)),
                           ("ln without a lease", b"\x00\x00\x00\x00\x04\x00", None),
                           ("short header", b"\x01", None),
                           ("rlen too big", b"\xff\x00\x00\x00\x00\x00", None),
                           ("bad mode", b"\x40\x42\x0f\x00\x07", None)):
        r = await k.send(sid, 2 if what == "bad mode" else 1, body, ls)
        print(what, "->", abinames.RC_NAMES[r.rc])
    r = await k.send(sid, 9)
    print("op 9 ->", abinames.RC_NAMES[r.rc])
    # a device that stops answering
    nor.fault = world.DEAD
    try:
        await f.check()
    except ServerError as e:
        print("dead flash: check ->", rc_of(e))
    nor.fault = world.NEVER_READY
    try:
        await f.erase(0x1000)
    except ServerError as e:
        print("never-ready flash: erase ->", rc_of(e))
    # the server crashes while it waits in POLL: the caller gets E_DEAD
    kernel.spawn(killer, prio=0, name="killer")
    r = await k.send(k.lookup("spi"), 3, b"\x05\x01\x00\xe8\x03")
    print("poll in flight when the server crashed ->", abinames.RC_NAMES[r.rc],
          "cs high:", pins.tab[world.LEVEL + 13])
    nor.fault = 0
    inits = []  # the settings the new instance puts on the bus
    real_init = simspi.SPI.init

    def spy(self, baudrate=None, polarity=None, phase=None):
        inits.append((baudrate, polarity, phase))
        real_init(self, baudrate, polarity, phase)

    simspi.SPI.init = spy
    print("read after restart ->", await f.read(0x10, 5),
          "restarts seen by the client:", f.spi.restarts_seen)
    simspi.SPI.init = real_init
    print("config re-sent before it (2 MHz, mode 3):", inits)
    # crash in the middle of a transaction with CS low: the finally and the
    # restart leave the chip deselected, and a read is retried once
    real = simspi.SPI.readinto

    def broken(self, buf, fill=0xFF):
        simspi.SPI.readinto = real
        raise OSError(5)

    simspi.SPI.readinto = broken
    print("read through a crash ->", await f.read(0x10, 5), "cs high:", pins.tab[world.LEVEL + 13])
    simspi.SPI.readinto = broken
    try:
        await f.spi.xfer(b"\x03\x00\x00\x10", 4)
    except ServerError as e:
        print("non-idempotent xfer through a crash ->", rc_of(e))
    print("restarts", srv_util.restarts())


async def killer(k):
    await k.sleep_ms(20)
    fault.fault(kernel.lookup("spi") & 0xFF, abi.F_INJECTED, 0, "test: kill mid-call")


async def other(k):
    await k.sleep_ms(5)
    f = Flash(k)
    try:
        await f.check()
    except ServerError as e:
        print("client on CS 12 (no device) ->", rc_of(e))


async def stranger(k):
    try:
        await Spi(k).xfer(b"\x9f", 3)
    except ServerError as e:
        print("badge without a device ->", rc_of(e))


kernel.spawn(app, prio=2, name="app", regions=BUF)
kernel.spawn(other, prio=2, name="other")
kernel.spawn(stranger, prio=3, name="stranger")
caps.load(((), (), ((1, 1),), ((1, 2),), ((1, 9),), ((1, 0),)))
kernel.run(duration_ms=2000)
