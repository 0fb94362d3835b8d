"""The room the unix virtual board gives its simulated peripherals.

A board keeps its pins, UARTs, SPI flash and debug link in silicon; the
virtual board keeps them in hal.sim's tables and device models, on the
MicroPython heap. boards/unix.toml's memory.sim_devices_bytes puts that
much on top of the firmware's heap (as the ROMFS partition is), so
`--heap 64K` means 64 KB for the firmware. This measures, on the unix port
itself, what the simulated peripherals hold: the tables by their sizes in
the heap's 16-byte blocks, the NOR model and the control socket by the heap
they take when made. The room must cover it, and not by much more: a room
far larger would hide firmware growth.
"""

import subprocess

from keep_host.boards import load_board
from keep_host.paths import ROOT
from keep_host.unixport import micropypath, micropython_exe

PROGRAM = r"""
import gc, os, select, socket
import hal.sim
from hal.sim import pins, spi, uart
from hal.sim.nor import NorFlash

def held(x):  # header + data, in whole 16-byte blocks
    n = len(x) if isinstance(x, bytearray) else 4 * len(x)  # the arrays are 'I'
    return 32 + (n + 15) // 16 * 16

tables = sum(held(x) for x in (pins.tab, pins.wtab, uart.lb, uart.lw, spi._sel))
gc.collect()
a = gc.mem_alloc()
nor = NorFlash(65536, NOR_PATH, 700, 30000)
s = socket.socket()
s.bind(socket.getaddrinfo('127.0.0.1', 0)[0][-1])
s.listen(1)
s.setblocking(False)
p = select.poll()
p.register(s, select.POLLIN)
gc.collect()
print(tables, gc.mem_alloc() - a)
"""


def test_the_room_covers_what_the_simulated_peripherals_hold(tmp_path):
    room = load_board("unix").sim_devices_bytes
    code = PROGRAM.replace("NOR_PATH", repr(str(tmp_path / "nor.bin")))
    env = {"MICROPYPATH": micropypath([ROOT / "firmware"]), "KEEP_SIM_NOR": "none", "PATH": "/usr/bin:/bin"}
    res = subprocess.run([micropython_exe(), "-X", "heapsize=256K", "-c", code], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr + res.stdout
    tables, models = map(int, res.stdout.split())
    held = tables + models
    assert tables > 1000 and models > 300, (tables, models)  # the pin table alone is ~1 KB
    assert held <= room, f"hal.sim holds {held} B ({tables} tables, {models} models), room {room}"
    assert room - held < 512, f"room {room} B is far more than the {held} B hal.sim holds"
