# Simulated UART: loopback, non-blocking readinto, overrun, RX notification,
# noise (bit flips, inserted bytes), host mode, format changes.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("tests the simulated UART itself (noise, host mode, overruns)")

import hal
from hal.sim import world
from keep import irq

h = hal.load()

u = h.UART(1, 9600, rxbuf=16)
buf = bytearray(32)
print("empty", u.any(), u.readinto(buf))
print("wrote", u.write(b"hello world"))
print("any", u.any())
n = u.readinto(buf, 5)
print(n, bytes(buf[:n]))
n = u.readinto(buf)
print(n, bytes(buf[:n]))

# the ring wraps and overruns drop bytes, counted
u.write(b"0123456789")
u.readinto(buf, 8)
u.write(b"abcdefghijklmnop")
print("overruns", u.overruns, u.any())
n = u.readinto(buf)
print(bytes(buf[:n]))

# RX notification bits on arrival
u.notify(2, 1 << 3)
irq.take(2)
u.write(b"x")
print("notified", irq.take(2))
h.poll()
print("level while data waits", irq.take(2))
u.readinto(buf)
h.poll()
print("after drain", irq.take(2))
u.notify(None, 0)
u.write(b"y")
print("stopped", irq.take(2))
u.readinto(buf)

# noise: flips at rate 1.0 corrupt every byte by exactly one bit
big = h.UART(2, rxbuf=200)
world.set_noise(2, 1.0, world.FLIP, seed=1234)
msg = bytes(range(100))
big.write(msg)
got = bytearray(100)
big.readinto(got)
one_bit = 0
for i in range(100):
    x = got[i] ^ msg[i]
    if x and x & (x - 1) == 0:
        one_bit += 1
print("flip all", one_bit)
# rate 0.1: some but not all bytes changed, reproducible with the seed
world.set_noise(2, 0.1, world.FLIP, seed=7)
big.write(msg)
big.readinto(got)
bad = sum(1 for i in range(100) if got[i] != msg[i])
print("flip some", 0 < bad < 30)
world.set_noise(2, 0.2, world.INSERT, seed=7)
big.write(msg)
print("inserted", big.any() > 100)
big.readinto(bytearray(200))
world.set_noise(2, 0)
big.write(b"clean")
n = big.readinto(got)
print(bytes(got[:n]))

# host mode: TX is kept for the host, RX comes from the host
world.set_mode(1, world.HOST)
u.write(b"to host")
print("tx", world.take_tx(1), u.any())
print("inject", world.inject(1, b"from host"))
n = u.readinto(buf)
print(bytes(buf[:n]))
world.set_mode(1, world.LOOP)

# format changes keep what was not given
u.init(baudrate=115200)
u.init(parity=0, stop=2)
print(u.baudrate, u.bits, u.parity, u.stop)
u.init(parity=None)
print(u.parity)
u.deinit()
print("inject closed", world.inject(1, b"z"))
