# Simulated SPI NOR flash (W25Q-like) behind a CS pin: JEDEC id, read, WEL,
# page program (AND, page wrap), sector erase, busy/WIP, faults, file backing.
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("tests the simulated NOR flash model itself (faults, timing, file backing)")

import gc
import os

import hal
from hal.sim import spi as ss
from hal.sim import world

h = hal.load()
PROG_US = 3000
ERASE_US = 8000
nor = world.attach_nor(1, 13, 8192, prog_us=PROG_US, erase_us=ERASE_US)
cs = h.Pin(13, hal.OUT, value=1)
bus = h.SPI(1, baudrate=8000000)
other = h.SPI(2)


def tx(out, nread=0):
    w = bytearray(out) + bytearray(nread)
    r = bytearray(len(w))
    cs.value(0)
    bus.write_readinto(w, r)
    cs.value(1)
    return bytes(r[len(out):])


def status():
    return tx(b"\x05", 1)[0]


def wait_ready():
    t0 = h.ticks_us()
    while status() & 1:
        pass
    return h.ticks_diff(h.ticks_us(), t0)


def read(addr, n):
    return tx(bytes((0x03, addr >> 16, addr >> 8 & 0xFF, addr & 0xFF)), n)


def cmd_addr(c, addr, data=b""):
    return tx(bytes((c, addr >> 16, addr >> 8 & 0xFF, addr & 0xFF)) + data)


print("jedec", tx(b"\x9f", 3).hex())
r = bytearray(3)
bus.readinto(r)  # CS high: nobody answers
print("no cs", r.hex())
cs.value(0)
other.readinto(r)  # another bus: nobody there
cs.value(1)
print("other bus", r.hex())
print("erased", read(0, 4).hex(), "status", status())

# program without WEL is ignored
cmd_addr(0x02, 0x10, b"\x12\x34")
print("no wel", read(0x10, 2).hex(), status())
tx(b"\x06")
print("wel", status())
tx(b"\x04")
print("wrdi", status())

# program: WIP while busy, WEL cleared at the end, bits only cleared
tx(b"\x06")
cmd_addr(0x02, 0x10, b"\x12\x34\xf0")
print("busy", status())
print("ignored while busy", tx(b"\x9f", 3).hex(), read(0x10, 1).hex())
print("busy for prog_us", wait_ready() >= PROG_US // 2)
print("programmed", read(0x10, 3).hex(), "status", status())
tx(b"\x06")
cmd_addr(0x02, 0x10, b"\xff\x0f\x0f")
wait_ready()
print("and", read(0x10, 3).hex())

# page wrap: bytes past the page end go to the page start
tx(b"\x06")
cmd_addr(0x02, 0x1FE, b"\xa1\xa2\xa3\xa4")
wait_ready()
print("wrap", read(0x1FE, 2).hex(), read(0x100, 2).hex(), read(0x200, 1).hex())
# more than 256 bytes: the last one sent for an offset wins
tx(b"\x06")
cmd_addr(0x02, 0x300, bytes(range(256)) + b"\x00")
wait_ready()
print("over 256", read(0x300, 2).hex(), read(0x3FF, 1).hex())
# reads stream across pages and wrap at the chip end
print("stream", read(0x1FE, 4).hex(), read(8191, 2).hex())
# fast read: one dummy byte
print("fast", tx(b"\x0b\x00\x00\x10\x00", 3).hex())

# sector erase: only with WEL, only that 4 KB sector, busy for erase_us
tx(b"\x06")
cmd_addr(0x02, 0x1000, b"\x55")
wait_ready()
cmd_addr(0x20, 0x0)
print("erase no wel", read(0x10, 1).hex())
tx(b"\x06")
cmd_addr(0x20, 0x123)
print("erasing", status())
print("erase busy", wait_ready() >= ERASE_US // 2)
print("erased", read(0x10, 3).hex(), read(0x1FE, 2).hex(), "kept", read(0x1000, 1).hex())

# faults: a dead chip reads 0xFF and ignores commands; a never-ready one stays busy
nor.fault = world.DEAD
print("dead", tx(b"\x9f", 3).hex(), status())
tx(b"\x06")
cmd_addr(0x02, 0x20, b"\x00")
nor.fault = 0
print("dead ignored", read(0x20, 1).hex(), status())
nor.fault = world.NEVER_READY
t0 = h.ticks_ms()
while status() & 1 and h.ticks_diff(h.ticks_ms(), t0) < 30:
    pass
print("never ready", status() & 1)
nor.fault = 0
print("healthy", tx(b"\x9f", 3).hex(), status())

# file backing survives a new model on the same file, and costs little heap
path = "hal_nor_test.bin"
try:
    os.remove(path)
except OSError:
    pass

gc.collect()
m0 = gc.mem_alloc()
f = world.attach_nor(2, 14, 65536, path, prog_us=10, erase_us=10)
gc.collect()
print("file model heap < 1500", gc.mem_alloc() - m0 < 1500)
cs2 = h.Pin(14, hal.OUT, value=1)
cs = cs2
bus = other
tx(b"\x06")
cmd_addr(0x02, 0xFF00, b"keep")
wait_ready()
print("file", read(0xFF00, 4), world.peek(f, 0xFF00, 5))
f2 = ss.devices.pop()
ss.pins.tab[world.CS + 14] = 0
g = world.attach_nor(2, 14, 65536, path)
print("reopened", world.peek(g, 0xFF00, 4), os.stat(path)[6])
tx(b"\x06")
cmd_addr(0x20, 0xF000)
wait_ready()
print("file erase", read(0xFF00, 4).hex(), read(0xEFFF, 1).hex())
f2._f.close()
g._f.close()
os.remove(path)
