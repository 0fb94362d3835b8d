# heapsize: 192K
# (160K is too little to compile keep/task.py, the one syscall surface, from source.)
# Checked region and lease copies allocate nothing: a client lends a
# preallocated lease (re-armed with reuse=), the server reads and writes it
# into preallocated buffers, all under micropython.heap_lock().
import micropython
from iso_util import boot

from keep import kernel, mem

boot()
mem.init(1024, "sim")
res = []


async def server(k):
    buf = bytearray(16)
    while True:
        m = await k.recv()
        ls = m.lease
        ls.read(0, 16, buf)
        ls.readinto(buf, 0)
        for i in range(16):
            buf[i] ^= 0xFF
        ls.write(0, buf, ls.len)
        await k.reply(m.call, 0)


async def client(k, srv):
    r = k.region("io")
    into = bytearray(16)
    data = b"0123456789abcdef"
    lease = r.lease(0, 16, True)
    for rnd in range(3):
        if rnd == 2:
            micropython.heap_lock()
        try:
            for _ in range(20):
                r.write(0, data)
                r.set_byte(0, 0x30)
                r.byte(1)
                r.read(0, 16, into)
                r.readinto(into, 0)
                r.lease(0, 16, True, reuse=lease)
                await k.send(srv, 1, None, lease=lease)
                r.read(0, 16, into)
        finally:
            if rnd == 2:
                micropython.heap_unlock()
    res.append((k.rc, into[0], into[15]))


srv = kernel.spawn(server, 1, "srv")
kernel.spawn(client, 2, "client", args=(srv,), regions=(("io", 256, True),))
kernel.run(until_idle=True)
print(res, kernel.tcb.state[1])
