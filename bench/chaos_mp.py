"""Chaos campaign and restart latency on the unix port (MicroPython).

Prints one JSON line. Run by bench/chaos.py (`make chaos`), which merges
the keys into bench/results.json.

    chaos_mp.py [FAULTS]          restart latency, then the campaign
    chaos_mp.py restart [RUNS]    restart latency only (bench/pico_bench.py
                                  runs this on the emulated Pico)

Workload: a `store` server (priority 1) answers three ops through a lease
of its clients' regions; two clients (priorities 2 and 3) call it in a loop
with a 50 ms timeout and check every answer. Faults are injected from the
kernel's tick hook (every 5 ms), cycling through the kinds:
- exception  runtime.inject: the server faults as if it raised
- memory     the server's next request reads past its lease (a real
             MemoryFault, raised in the server's code)
- budget     the server's next request spins past its 2 ms slice budget
             or allocates past its 1 KB heap budget (alternately: real
             overruns, caught by the kernel's budget check)
- stale      runtime.inject "stale": the server restarts with a new
             generation; clients still hold the old id and get E_DEAD
- malformed  a client sends a garbage request (unknown op, short body),
             or runtime.inject corrupts a queued message
The supervisor restarts the server (back-off 1..4 ms, no flap hold).

Figures: faults_injected, restarts, kernel_deaths (exceptions out of the
kernel loop), max_client_block_ms (longest send, against the timeout),
lost_messages (sends that got neither a correct reply nor an explicit
error), and restart_latency_ms (fault -> first answered request after
the restart, first restart, zero back-off; the median of 50 boots).
"""

import gc
import json
import sys
import time

from keep import abi, abinames, fault, kernel, mem, svc, tcb
from runtime import inject
from servers import supervisor as sv

ticks_us = time.ticks_us
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff

TIMEOUT_MS = 50
OP_PUT = 1  # lease (read): server sums it, replies seq + sum
OP_GET = 2  # lease (rw): server writes seq into it
OP_ECHO = 3  # body echoed
target = 1200  # faults to inject; main() reads the command line

bug = [None]  # the server's next-request bug, set by the injector
stat = {"faults_injected": 0, "sent": 0, "ok": 0, "errors": 0, "lost_messages": 0,
        "max_block_us": 0, "kinds": {}}


def count(kind):
    stat["faults_injected"] += 1
    stat["kinds"][kind] = stat["kinds"].get(kind, 0) + 1


def on_fault(s):
    """fault.hook: every fault the kernel records is one injected fault
    (F_INJECTED is the stale-id restart of a running task, counted by the
    injector already)."""
    k = fault.records[s].kind
    if k != abi.F_INJECTED:
        count(abinames.FAULT_NAMES[k])


async def store(k):
    buf = bytearray(16)
    out = bytearray(8)
    while True:
        m = await k.recv()
        b = bug[0]
        if b is not None and (b != "memory" or m.lease is not None):
            bug[0] = None
            if b == "memory":
                m.lease.read(0, m.lease.len + 8, buf)  # past the lease: MemoryFault
            elif b == "time":
                t0 = ticks_ms()
                while ticks_diff(ticks_ms(), t0) < 4:
                    pass
            elif b == "heap":
                junk = [bytearray(64) for _ in range(24)]  # noqa: F841
        op = m.op
        if m.len < 4:
            await k.reply(m.call, abi.E_BADARG)
            continue
        if op == OP_PUT:
            n = m.lease.read(0, 16, buf)
            t = 0
            for i in range(n):
                t += buf[i]
            out[0:4] = m.body[0:4]
            out[4] = t & 0xFF
            await k.reply(m.call, 0, out[:5])
        elif op == OP_GET:
            m.lease.write(0, m.body, 4)
            await k.reply(m.call, 0, m.body[:4])
        elif op == OP_ECHO:
            await k.reply(m.call, 0, m.body[:m.len])
        else:
            await k.reply(m.call, abi.E_NOTSUP)


async def client(k, me):
    r = k.region("io")
    lease = r.lease(0, 16)
    into = bytearray(16)
    req = bytearray(8)
    srv = k.lookup("store")
    seq = 0
    while not stat.get("stop"):
        seq += 1
        req[0] = seq & 0xFF
        req[1] = (seq >> 8) & 0xFF
        req[2] = me
        req[3] = 0x5A
        op = (OP_PUT, OP_GET, OP_ECHO)[seq % 3]
        malformed = stat.get("malformed_next") == me
        if malformed:
            stat["malformed_next"] = 0
            op = 0xEE if seq & 1 else OP_ECHO
        if op == OP_PUT:
            r.write(0, req)
            r.lease(0, 16, False, reuse=lease)
        elif op == OP_GET:
            r.lease(0, 16, True, reuse=lease)
        t0 = ticks_us()
        await k.send(srv, op, req[:2] if malformed else req[:4],
                     lease=lease if op in (OP_PUT, OP_GET) else None, timeout_ms=TIMEOUT_MS)
        dt = ticks_diff(ticks_us(), t0)
        stat["sent"] += 1
        if dt > stat["max_block_us"]:
            stat["max_block_us"] = dt
        rc = k.rc
        if malformed:
            count("malformed")
        if rc < 0:
            stat["errors"] += 1
            if rc == abi.E_DEAD:
                srv = k.lookup("store")  # restarted (or stale): the current id
            continue
        # an OK answer must be the right one
        body = k.rbody
        good = k.rlen >= 4 and body[0] == req[0] and body[1] == req[1] and body[2] == me
        if good and op == OP_GET:
            r.read(0, 4, into)
            good = into[0] == req[0] and into[2] == me
        if good:
            stat["ok"] += 1
        else:
            stat["lost_messages"] += 1
        if seq % 8 == 0:
            await k.yield_()


def injector():
    i = stat.get("tick", 0)
    stat["tick"] = i + 1
    if stat["faults_injected"] >= target:
        return
    kind = i % 6
    s = kernel.lookup("store") & 0xFF
    if kind == 0:
        inject.inject(s, "exception")
    elif kind == 1:
        bug[0] = "memory"
    elif kind == 2:
        bug[0] = "time" if (i // 6) & 1 else "heap"
    elif kind == 3:
        if inject.inject(s, "stale") == 0:
            count("stale")
    elif kind == 4:
        stat["malformed_next"] = 1 + (i >> 3) % 2
    else:
        if inject.inject(s, "malformed") == 0:
            count("malformed")


def campaign():
    kernel.boot(64, 256)
    mem.init(1024, "sim")
    kernel.spawn(sv.main, 0, "supervisor",
                 args=dict(flap_restarts=255, flap_window_ms=20, backoff_ms=1, backoff_max_ms=4,
                           servers=(1,)))
    svc.set_supervisor(0)
    kernel.spawn(store, 1, "store", heap_budget=1024, slice_ms=2)
    kernel.spawn(client, 2, "c1", args=(1,), regions=(("io", 256, True),))
    kernel.spawn(client, 3, "c2", args=(2,), regions=(("io", 256, True),))
    kernel.tick_hook = injector
    fault.hook = on_fault
    deaths = 0
    t0 = ticks_ms()
    while stat["faults_injected"] < target and ticks_diff(ticks_ms(), t0) < 120000:
        try:
            kernel.run(duration_ms=200)
        except Exception as e:  # the kernel loop itself died
            deaths += 1
            sys.print_exception(e)
        from keep import trace

        trace.clear()
    kernel.tick_hook = None
    fault.hook = None
    # The clients start no new call; every call in flight must end (a reply
    # or its timeout) well within twice the timeout. A client still waiting
    # after that lost its message.
    stat["stop"] = True
    kernel.run(duration_ms=2 * TIMEOUT_MS)
    stuck = sum(1 for s in (2, 3) if tcb.state[s] in (abi.ST_IN_SEND, abi.ST_IN_REPLY))
    return {
        "faults_injected": stat["faults_injected"],
        "fault_kinds": stat["kinds"],
        "restarts": tcb.restarts[1],
        "supervisor_restarts": sv.stats["restarts"],
        "kernel_deaths": deaths,
        "max_client_block_ms": round(stat["max_block_us"] / 1000, 2),
        "client_timeout_ms": TIMEOUT_MS,
        "lost_messages": stat["lost_messages"] + stuck,
        "chaos_requests": stat["sent"],
        "chaos_replies_ok": stat["ok"],
        "chaos_errors": stat["errors"],
        "chaos_seconds": round(ticks_diff(ticks_ms(), t0) / 1000, 1),
    }


# ---- restart latency ---------------------------------------------------------------
lat = {}


async def echo(k):
    while True:
        m = await k.recv()
        if m.op == 9:
            lat["t_fault"] = ticks_us()
            raise ValueError("crash")
        await k.reply(m.call, 0, m.body[:m.len])


async def prober(k):
    srv = k.lookup("echo")
    await k.send(srv, 1, b"warm")
    await k.send(srv, 9, b"die")  # E_DEAD: it faulted
    while True:
        await k.send(k.lookup("echo"), 1, b"again")
        if k.rc == 0:
            lat["t_ok"] = ticks_us()
            kernel.stop()  # measured: this boot is done
            return
        await k.yield_()


def restart_latency(runs=50):
    """Sorted restart latencies (us), one per boot. A boot whose restart
    takes longer than the 2 s cap gives none: restart_latency_runs says
    how many of `runs` did."""
    out = []
    for _ in range(runs):
        lat.clear()
        gc.collect()
        kernel.boot(64, 64)
        kernel.spawn(sv.main, 0, "supervisor", args=dict(backoff_ms=0, backoff_max_ms=0))
        svc.set_supervisor(0)
        kernel.spawn(echo, 1, "echo")
        kernel.spawn(prober, 2, "prober")
        kernel.run(duration_ms=2000)
        if "t_ok" in lat:
            out.append(ticks_diff(lat["t_ok"], lat["t_fault"]))
    out.sort()
    return out


def restart_figures(runs):
    r = restart_latency(runs)
    return {"restart_latency_ms": round(r[len(r) // 2] / 1000, 3) if r else None,
            "restart_latency_max_ms": round(r[-1] / 1000, 3) if r else None,
            "restart_latency_runs": len(r)}


def main():
    global target
    argv = sys.argv[1:]
    if argv and argv[0] == "restart":
        print(json.dumps(restart_figures(int(argv[1]) if len(argv) > 1 else 50)))
        return
    if argv:
        target = int(argv[0])
    res = restart_figures(50)
    res.update(campaign())
    print(json.dumps(res))


main()
