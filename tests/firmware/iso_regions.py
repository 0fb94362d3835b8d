# heapsize: 192K
# (160K is too little to compile keep/task.py, the one syscall surface, from source.)
# Regions: carved from one arena by the board's MPU rules; every access is
# bounds-, permission- and owner-checked; a violation is a memory fault of
# the task that made it (record, TR_MEMFAULT, MemoryFault stops its code).
from iso_util import boot, show

from keep import fault, kernel, mem

# ---- carving and the MPU rules ----------------------------------------------
boot()
mem.init(mem.need([(("a", 256, True), ("b", 1024, True)), (("c", 512, False),)], "sim"), "sim")
print("arena", len(mem.arena))
r = mem.carve(1, (("a", 256, True), ("b", 1024, True)))
r2 = mem.carve(2, (("c", 512, False),))
for reg in (r["a"], r["b"], r2["c"]):
    print(reg.name, reg.base, reg.size, reg.base % reg.size == 0)
for bad in ((("x", 100, True),), (("x", 300, True),), tuple(("r%d" % i, 256, True) for i in range(9))):
    try:
        mem.carve(3, bad)
        print("accepted?!")
    except ValueError as e:
        print("refused:", e)
print("esp32", mem.problem(36, mem.ESP32_RULES), mem.problem(34, mem.ESP32_RULES))

# ---- in-task accesses --------------------------------------------------------
del r, r2, reg
mem.init(4096, "sim")  # before the re-boot fragments the heap with its tables
boot()
shared = {}
out = []


async def good(k):
    b = k.region("buf")
    b.write(0, b"hello")
    b.set_byte(5, 33)
    into = bytearray(6)
    n = b.read(0, 6, into)
    out.append(("good", n, bytes(into), b.read(2, 3), b.byte(5), b.size, b.writable))
    ro = k.region("ro")
    out.append(("ro read", ro.read(0, 2)))
    shared["buf"] = b  # a handle leaks to another task by a global
    await k.sleep_ms(5)
    out.append(("good still runs", b.read(0, 5)))


async def outside(k):
    b = k.region("buf")
    b.write(250, b"12345")  # 256-byte region: 250 + 6 > 256 ... 5 fits
    b.write(252, b"12345")  # 252 + 5 = 257: out of bounds
    out.append("outside: not reached")


async def readonly(k):
    ro = k.region("ro")
    ro.write(0, b"x")
    out.append("readonly: not reached")


async def thief(k):
    await k.yield_()
    shared["buf"].read(0, 1)
    out.append("thief: not reached")


async def catcher(k):
    # Catching the MemoryFault does not un-fault the task: it stays stopped
    # and its later syscalls do nothing.
    try:
        k.region("buf").read(-1, 4)
    except mem.MemoryFault as e:
        out.append(("caught", str(e)))
    await k.sleep_ms(1)
    out.append("catcher: not reached")


async def noname(k):
    k.region("nope")


R = (("buf", 256, True), ("ro", 256, False))
kernel.spawn(good, 2, "good", regions=R)
kernel.spawn(outside, 2, "outside", regions=R)
kernel.spawn(readonly, 2, "readonly", regions=R)
kernel.spawn(thief, 3, "thief", regions=(("own", 256, True),))
kernel.spawn(catcher, 2, "catcher", regions=R)
kernel.spawn(noname, 2, "noname")
kernel.run(until_idle=True)
show(out, 6)
rec = fault.records[1]
print("record", rec.detail >> 16, rec.detail & 0xFFFF, rec.info.access, rec.info.offset, rec.info.length)
print("text", rec.text().split(" at File")[0])
print("where", rec.where().split(", ", 1)[1])
