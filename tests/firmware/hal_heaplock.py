# Hot paths allocate nothing: a pin edge -> irq.post, output writes, a
# looped-back UART write/readinto with notification, an SPI NOR flash
# transfer, a WDT feed (the simulator's only: a board's watchdog cannot be
# stopped again), and poll() with nothing to do; on the rig (tests/firmware/
# lib/rig.py), so on the unix port's simulator and a board's real HAL alike.
# Any allocation under heap_lock raises MemoryError and fails the test.
import micropython

import hal
import rig
from keep import irq

rig.connect(4096)
h = hal.load()
inp = h.Pin(rig.PIN_IN, hal.IN)
inp.irq(2, 1 << 7, hal.BOTH)
out = h.Pin(rig.PIN_OUT, hal.OUT)  # jumpered to inp: its changes are inp's edges
u = h.UART(rig.UART, rxbuf=32)
u.notify(3, 1 << 1)
msg = b"ping"
buf = bytearray(8)
cs = h.Pin(rig.FLASH_CS, hal.OUT, value=1)
spi = h.SPI(rig.FLASH_BUS)
wcmd = b"\x9f\x00\x00\x00"  # JEDEC id
rbuf = bytearray(4)
w = h.WDT(1000, thread=False) if rig.SIM else None
post_bits = [0, 0]
got = [0]
h.poll()

micropython.heap_lock()
try:
    for i in range(20):
        out.toggle()  # an edge on inp -> post
        out.value(1)
        u.write(msg)  # looped back -> RX -> notification when polled
        h.sleep_ms(1)  # a board's UART takes its bit times (0.35 ms for 4 bytes at 115200)
        h.poll()
        got[0] += u.readinto(buf, 8)
        cs.value(0)
        spi.write_readinto(wcmd, rbuf)
        cs.value(1)
        if w is not None:
            w.feed()
        h.poll()
    post_bits[0] = irq.take(2)
    post_bits[1] = irq.take(3)
    ok = True
except MemoryError:
    ok = False
micropython.heap_unlock()
print("no allocation", ok)
print("bits", post_bits, "uart looped", got[0], "jedec", rbuf[1:] == rig.jedec_bytes())
inp.irq(None)
u.deinit()
