# Hot paths allocate nothing: a pin edge -> irq.post, output writes with
# history, a loopback UART write/readinto with notification, an SPI NOR
# read, a WDT feed, and poll() with nothing to do. Any allocation under
# heap_lock raises MemoryError and fails the test.
import micropython

import hal
from hal.sim import world
from keep import irq

h = hal.load()
inp = h.Pin(4, hal.IN)
inp.irq(2, 1 << 7, hal.BOTH)
out = h.Pin(6, hal.OUT)
u = h.UART(1, rxbuf=32)
u.notify(3, 1 << 1)
msg = b"ping"
buf = bytearray(8)
nor = world.attach_nor(1, 13, 4096)
cs = h.Pin(13, hal.OUT, value=1)
spi = h.SPI(1)
wcmd = b"\x03\x00\x00\x00\x00\x00"
rbuf = bytearray(6)
w = h.WDT(1000, thread=False)
drive = world.drive
post_bits = [0, 0]
h.poll()

micropython.heap_lock()
try:
    for i in range(20):
        drive(4, i & 1)  # edge -> post
        out.toggle()  # output change -> history ring
        out.value(1)
        u.write(msg)  # loopback -> RX ring -> post
        n = u.readinto(buf, 8)
        cs.value(0)  # CS edge -> device select
        spi.write_readinto(wcmd, rbuf)
        cs.value(1)
        w.feed()
        h.poll()
    post_bits[0] = irq.take(2)
    post_bits[1] = irq.take(3)
    ok = True
except MemoryError:
    ok = False
micropython.heap_unlock()
print("no allocation", ok)
print("bits", post_bits, n, bytes(buf[:n]), rbuf[4:])
