# heapsize: 256K
# Keep against the monolithic build of the same drivers, op by op, in one
# process: bench/tradeoff.py runs it on the unix port, under callgrind, and
# on the emulated Pico (one source for all three), and prints one JSON line.
#
#     tradeoff_mp.py [N [BUILDS [OP=N ...] [rounds=R]]] [instant]
#                                     BUILDS: keep,mono (default both)
#
# instant (the unix port): a NOR flash that is never busy, so an op's
# instruction count does not depend on how long the chip's program takes.
#
# On a board there is no command line: the defaults apply.
#
# Each build boots the kernel the way its table would (Keep: the supervisor
# in slot 0 and the gpio, uart, spi and flaky servers as tasks; monolithic:
# clients.direct.system in slot 0 and the same drivers as calls, see
# firmware/clients/direct.py) on the test rig (tests/firmware/lib/rig.py:
# the jumpered pins, the looped UART, the NOR flash), then one task runs,
# through the stock client libraries, each op OPS lists: 5 to warm up, then
# N timed with ticks_us (GC on, as an app has it), then up to 20 counted
# for the heap they allocate (micropython.mem_total where the port has it, else
# gc.mem_alloc with the GC off, as bench/kernel_bench.py does). With R
# rounds the builds alternate and each figure is the median round's.
#
# The ops (what one "op" is):
#   gpio_toggle    g.toggle(PIN_OUT)
#   gpio_read      g.read(PIN_IN)
#   uart_write     u.write(8 bytes)          (the UART at 1 Mbaud)
#   uart_read      u.read(16): what is waiting, often nothing (never blocks)
#   flash_read     f.read(addr, 16)
#   flash_program  f.program(addr, 16 bytes): wait-ready, write enable,
#                  program, wait-ready (4 requests; the chip's program time)
#   chaos_mix      one request of apps/chaos/main.py's loop: an ECHO to
#                  flaky checked, and every 50th also toggle + UART write
#                  12 + read back + flash JEDEC check (flaky never crashes)
import gc
import json
import sys
import time

import micropython
import rig
from keep import caps, kernel, svc

from apps.chaos import main as chaos
from clients import direct
from clients.base import Client
from clients.gpio import Gpio
from clients.flash import Flash
from clients.uart import Uart

mem_total = getattr(micropython, "mem_total", None)
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff
OPS = ("gpio_toggle", "gpio_read", "uart_write", "uart_read", "flash_read", "flash_program",
       "chaos_mix")
N = 200
ROUNDS = 1  # the host asks the unix port for more (rounds=R): its timings vary with the host's load
WARM = 5
ALLOC_N = 20  # ops counted for their heap (with the GC off on a board: the heap must hold them)
BAUD = 1000000

DRIVERS = {  # name: (module, function, args, owns)
    "gpio": ("servers.gpio", "main", {"rights": {"1": [rig.PIN_OUT, rig.PIN_IN]}},
             {"pins": (rig.PIN_OUT, rig.PIN_IN)}),
    "uart": ("servers.uart", "main", {"rights": {"1": rig.UART}, "rxbuf": 64, "baud": BAUD},
             {"uart": (rig.UART,)}),
    "spi": ("servers.spi", "main", {"devices": {"1": rig.FLASH_CS}},
            {"spi": ((rig.FLASH_BUS, rig.FLASH_CS),)}),
    "flaky": ("apps.chaos.flaky", "main", {"crash_every_ms": 100000000, "first_ms": 0}, None),
}
out = {}


class Ops:
    """The clients and each op as a coroutine of one op."""

    def __init__(self, k):
        self.k = k
        self.g = Gpio(k)
        self.u = Uart(k)
        self.f = Flash(k)
        self.fl = Client(k, "flaky")
        self.req = bytearray(12)
        self.seq = 0
        self.addr = 0
        self.w8 = b"01234567"
        self.w16 = b"0123456789abcdef"

    async def gpio_toggle(self):
        await self.g.toggle(rig.PIN_OUT)

    async def gpio_read(self):
        await self.g.read(rig.PIN_IN)

    async def uart_write(self):
        await self.u.write(self.w8)

    async def uart_read(self):
        await self.u.read(16)

    async def flash_read(self):
        await self.f.read(0, 16)

    async def flash_program(self):
        self.addr = (self.addr + 16) & 0xFFF  # one erased sector, 16 bytes at a time
        await self.f.program(self.addr, self.w16)

    async def chaos_mix(self):
        # apps/chaos/main.py's loop body, less its sleep and report
        self.seq += 1
        seq = self.seq
        req = self.req
        chaos.fill_request(req, seq)
        r = await self.fl.call(1, req, None, False)
        if not chaos.is_echo(r, req):
            raise ValueError("flaky: bad reply")
        if seq % 50 == 0:
            await self.g.toggle(rig.PIN_OUT)
            await self.u.write(req)
            got = b""
            for _ in range(3):
                got += await self.u.read(16)
                if len(got) >= 12:
                    break
                await self.k.sleep_ms(1)
            await self.f.check()


async def bench(k, n, counts):
    if "started" in out:  # restarted after a fault (Keep): say so, do not loop
        kernel.stop()
        return
    out["started"] = 1
    o = Ops(k)
    await o.g.configure(rig.PIN_OUT, o.g.OUT, value=0)
    await o.g.configure(rig.PIN_IN, o.g.IN)
    await o.f.check()
    await o.f.erase(0)
    for name in OPS:
        m = counts.get(name, n)
        if not m:
            continue
        op = getattr(o, name)
        for _ in range(WARM):
            await op()
        gc.collect()
        t0 = ticks_us()
        for _ in range(m):
            await op()
        us = ticks_diff(ticks_us(), t0) / m
        gc.collect()
        m = min(m, ALLOC_N)
        if mem_total is not None:
            a0 = mem_total()
            for _ in range(m):
                await op()
            alloc = (mem_total() - a0) / m
        else:
            gc.disable()
            a0 = gc.mem_alloc()
            for _ in range(m):
                await op()
            alloc = (gc.mem_alloc() - a0) / m
            gc.enable()
        out[name] = (round(us, 2), round(alloc, 1))
    del out["started"]
    kernel.stop()


def boot(build, n, counts):
    """Boot the kernel for `build` ("keep" or "mono") with the bench task."""
    kernel.boot(max_msg=64, trace_records=64)
    direct.reset()  # the last round's monolithic clients out of Client
    if build == "keep":
        from servers import supervisor

        kernel.spawn(supervisor.main, 0, "supervisor", {"backoff_ms": 10})
        svc.set_supervisor(0)
        for name in DRIVERS:
            module, function, args, owns = DRIVERS[name]
            __import__(module)
            a = dict(args)
            if owns:
                a["owns"] = owns
            kernel.spawn(getattr(sys.modules[module], function), 1, name, a)
        nd = len(DRIVERS)
        kernel.spawn(bench, 3, "bench", {"n": n, "counts": counts})
        caps.load(((),) * (1 + nd) + (tuple((i + 1, 1) for i in range(nd)),))
    else:
        drv = {name: DRIVERS[name] + ({1: 1},) for name in DRIVERS}
        kernel.spawn(direct.system, 0, "system", {"drivers": drv, "reboot": kernel.stop})
        svc.set_supervisor(0)
        kernel.spawn(bench, 3, "bench", {"n": n, "counts": counts})
        caps.load(((), ()))


# ---- faults: the same bug rate in both builds ---------------------------------
# `tradeoff_mp.py faults [INVOCATIONS [PPM]]` (a board: the defaults). Every
# driver runs behind Bug, which raises InjectedBug in the driver while it
# holds a request, for a seeded pseudo-random PPM in a million of its
# invocations: the model's buggy driver invocation. Keep: the server dies,
# its caller gets E_DEAD (or the client's one retry), the supervisor
# restarts it. Monolithic: the bug is the caller's exception, the app does
# not catch it (it catches ServerError, as the stock apps do), and
# direct.system reboots: here the kernel is booted again in this process,
# and the count of system downs goes up. The workload runs until the
# drivers have served INVOCATIONS requests in all.
#
# Printed: invocations, bugs injected, system downs per build; t_s samples
# (Keep: from a bug to that driver's next good reply, in us) and, for the
# monolithic build, the time from a bug to the first good reply after its
# in-process re-boot (a real reboot adds the interpreter's restart: the
# host measures t_r on the board itself, bench/tradeoff.py).
FAULT_N = 3000
FAULT_PPM = 10000
RUN_LIMIT_MS = 5000  # a boot that neither finishes nor goes down by then is hung: downtime
bugs = {"n": 0, "calls": 0, "seed": 12345, "ppm": FAULT_PPM, "at": {}}


class InjectedBug(Exception):
    pass


class Bug:
    """A driver's k, with a bug in a few of its invocations (see above)."""

    def __init__(self, k, name):
        self.k = k
        self.name = name

    def __getattr__(self, attr):
        return getattr(self.k, attr)

    def recv(self, *a):
        m = yield from self.k.recv(*a)
        if m.sender >= 0:
            bugs["calls"] += 1
            s = (bugs["seed"] * 1103515245 + 12345) & 0x3FFFFFFF  # an LCG: the same on every port
            bugs["seed"] = s
            if (s >> 8) % 1000000 < bugs["ppm"]:
                bugs["n"] += 1
                bugs["at"][self.name] = ticks_us()
                raise InjectedBug(self.name)
        return m


def buggy(module, function, name):
    """A driver entry that runs the real one behind Bug."""
    __import__(module)
    real = getattr(sys.modules[module], function)

    async def entry(k, **args):
        await real(Bug(k, name), **args)

    return entry


async def workload(k, stop_at, ts):
    """The drivers' clients, over and over, until stop_at invocations."""
    from clients.base import ServerError

    g = Gpio(k)
    u = Uart(k)
    f = Flash(k)
    ops = ((g, "gpio", g.toggle, rig.PIN_OUT), (g, "gpio", g.read, rig.PIN_IN),
           (u, "uart", u.write, b"01234567"), (u, "uart", u.read, 16),
           (f.spi, "spi", f.read, 0))
    await g.configure(rig.PIN_OUT, g.OUT, value=0)
    while bugs["calls"] < stop_at:
        for _c, name, op, arg in ops:
            try:
                if name == "spi":
                    await op(arg, 16)
                else:
                    await op(arg)
            except ServerError:
                continue  # Keep: the driver died under this call; the next one is served
            t = bugs["at"].pop(name, None)
            if t is not None:
                ts.append(ticks_diff(ticks_us(), t))
    kernel.stop()


def boot_faults(build, stop_at, ts, downs):
    kernel.boot(max_msg=64, trace_records=64)
    direct.reset()
    names = ("gpio", "uart", "spi")
    if build == "keep":
        from servers import supervisor

        # flap detection off (a bug rate this high would hold a driver as a crash
        # loop): isolation is measured here, not the supervisor's policy
        kernel.spawn(supervisor.main, 0, "supervisor", {"backoff_ms": 0, "flap_restarts": 255})
        svc.set_supervisor(0)
        for name in names:
            module, function, args, owns = DRIVERS[name]
            a = dict(args)
            a["owns"] = owns
            kernel.spawn(buggy(module, function, name), 1, name, a)
        kernel.spawn(workload, 3, "app", {"stop_at": stop_at, "ts": ts})
        caps.load(((),) * 4 + (((1, 1), (2, 1), (3, 1)),))
    else:
        def reboot():
            downs.append(ticks_us())
            kernel.stop()

        kernel.spawn(direct.system, 0, "system", {"drivers": None, "reboot": reboot})
        svc.set_supervisor(0)
        direct.drivers.clear()
        i = 0
        for name in names:  # what direct.start does, with each entry behind Bug
            module, function, args, owns = DRIVERS[name]
            a = dict(args)
            a["owns"] = owns
            direct.drivers[name] = direct.Direct(name, 31 - i, buggy(module, function, name), a,
                                                 {1: 1}, 64)
            i += 1
        direct._seam()
        kernel.spawn(workload, 3, "app", {"stop_at": stop_at, "ts": ts})
        caps.load(((), ()))


def faults(argv):
    n = int(argv[0]) if argv else FAULT_N
    bugs["ppm"] = int(argv[1]) if len(argv) > 1 else FAULT_PPM
    rig.connect(8192)
    res = {"ppm": bugs["ppm"], "platform": sys.platform}
    for build in ("keep", "mono"):
        bugs.update({"n": 0, "calls": 0, "seed": 12345, "at": {}})
        ts = []
        downs = []
        hung = 0
        t_start = ticks_us()
        while bugs["calls"] < n:
            before = len(downs)
            boot_faults(build, n, ts, downs)
            try:
                kernel.run(duration_ms=RUN_LIMIT_MS)
            except Exception as e:  # the kernel itself died: a system down in any build
                downs.append(ticks_us())
                print("kernel died:", repr(e))
            if len(downs) == before and bugs["calls"] < n:  # neither done nor down: hung
                downs.append(ticks_us())
                hung += 1
            if len(downs) > n:
                raise SystemExit("tradeoff_mp: no progress")
        res[build] = {"invocations": bugs["calls"], "bugs": bugs["n"], "downs": len(downs),
                      "hung": hung, "t_us": ts, "seconds": ticks_diff(ticks_us(), t_start) / 1e6}
    print(json.dumps(res))


def main(argv):
    instant = rig.SIM and "instant" in argv
    rig.connect(None if instant else 8192)
    if instant:  # callgrind: a chip that is never busy, so no op waits for it
        from hal.sim import world

        world.attach_nor(rig.FLASH_BUS, rig.FLASH_CS, 8192, prog_us=0, erase_us=0)
        argv = [a for a in argv if a != "instant"]
    n = int(argv[0]) if argv else N
    builds = argv[1].split(",") if len(argv) > 1 else ("keep", "mono")
    counts = {}
    rounds = ROUNDS
    for a in argv[2:]:
        name, v = a.split("=")
        if name == "rounds":
            rounds = int(v)
        else:
            counts[name] = int(v)
    res = {"n": n, "rounds": rounds, "ops": OPS, "us": {}, "alloc": {}, "platform": sys.platform}
    runs = {}
    for _ in range(rounds):  # the builds alternate, so both see the same machine state
        for build in builds:
            out.clear()
            boot(build, n, counts)
            kernel.run(duration_ms=600000)
            if len(out) != len([o for o in OPS if counts.get(o, n)]):
                raise SystemExit("tradeoff_mp: %s build stopped early: %r" % (build, out))
            runs.setdefault(build, []).append(dict(out))
    for build in runs:  # the median round of each op
        rs = runs[build]
        res["us"][build] = {k: sorted(r[k][0] for r in rs)[len(rs) // 2] for k in rs[0]}
        res["alloc"][build] = {k: sorted(r[k][1] for r in rs)[len(rs) // 2] for k in rs[0]}
    print(json.dumps(res))


_argv = sys.argv[1:] if len(sys.argv) > 1 else []
if _argv and _argv[0] == "faults":
    faults(_argv[1:])
else:
    main(_argv)
