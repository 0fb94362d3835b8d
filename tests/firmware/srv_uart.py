# heapsize: 256K
# uart server: inline and leased transfers, RX notifications, config/status,
# rights by badge, bad input, and a crash in the middle of a call.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("breaks hal.sim's UART in mid-call and reads its line settings")

from hal.sim import uart as simuart
from keep import abinames, caps, kernel

import srv_util
from clients.base import ServerError
from clients.uart import Uart
from servers import uart

BUF = (("buf", 256, True),)
srv_util.boot([BUF])
kernel.spawn(uart.main, prio=1, name="uart",
             args={"owns": {"uart": (1,)}, "rights": {"1": 1}, "rxbuf": 32})


def rc_of(e):
    return abinames.RC_NAMES[e.args[0]]


async def app(k):
    u = Uart(k)
    await u.subscribe(bit=2)
    print("write ->", await u.write(b"hello"))
    m = await k.wait(1 << 2, 200)
    print("rx notification ->", abinames.RC_NAMES[m.rc])
    print("read ->", await u.read(3), await u.read(10), await u.read())
    # bulk through leases (loopback: what goes out comes back in)
    reg = k.region("buf")
    reg.write(0, b"0123456789abcdefghij")
    out = reg.lease(0, 20, False)
    print("lease write ->", await u.write(lease=out))
    inn = reg.lease(100, 32, True)
    print("lease read ->", await u.read(lease=inn), reg.read(100, 20))
    for what, ls, body in (("too short", reg.lease(0, 8, False), b"\x00\x00\x10\x00"),
                           ("read-only for READ", reg.lease(0, 8, False), b""),
                           ("bad span", reg.lease(0, 8, True), b"\x01")):
        r = await k.send(k.lookup("uart"), 2 if what != "too short" else 1, body, ls)
        print("lease", what, "->", abinames.RC_NAMES[r.rc])
    await u.config(9600, 7, "even", 2)
    su = simuart.uarts[1]
    print("config ->", su.baudrate, su.bits, su.parity, su.stop)
    for body in (b"\x00\x00\x00\x00\x08\x00\x01", b"\x80\x25\x00\x00\x09\x00\x01", b"\x01"):
        r = await k.send(k.lookup("uart"), 4, body)
        print("config", body, "->", abinames.RC_NAMES[r.rc])
    r = await k.send(k.lookup("uart"), 77, b"")
    print("op 77 ->", abinames.RC_NAMES[r.rc])
    await u.write(b"x" * 40)  # overruns the 32-byte ring
    print("status ->", await u.status())
    await u.read(lease=reg.lease(0, 64, True))
    # crash mid-call: the HAL UART raises inside the server's WRITE
    real = simuart.UART.write

    def broken(self, buf):
        simuart.UART.write = real
        raise OSError(5)

    simuart.UART.write = broken
    try:
        await u.write(b"lost?")
    except ServerError as e:
        print("write through a crash (not retried) ->", rc_of(e))
    print("status after restart ->", await u.status(), "dead seen", u.dead_seen)
    print("write after restart ->", await u.write(b"again"))
    m = await k.wait(1 << 2, 200)
    print("rx notification after restart ->", abinames.RC_NAMES[m.rc], await u.read())
    print("restarts", srv_util.restarts())


async def stranger(k):
    try:
        await Uart(k).write(b"hi")
    except ServerError as e:
        print("stranger (badge 7) ->", rc_of(e))


kernel.spawn(app, prio=2, name="app", regions=BUF)
kernel.spawn(stranger, prio=3, name="stranger")
caps.load(((), (), ((1, 1),), ((1, 7),)))
kernel.run(duration_ms=1000)
print("faults", [abinames.FAULT_NAMES[r.kind] for r in kernel.fault.records.values()])
