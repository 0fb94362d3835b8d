"""A synthetic console session (seeded): what a small app's trace looks like.

For tests and benchmarks when no board is at hand: a supervisor, a gpio
server and two clients exchange messages, toggle pins, log, fault and get
restarted; frames are cut like the kernel's drain and text lines are printed
between them. Deterministic for a given seed.
"""

import random

from .. import abi
from .frame import encode_frame, log_records, record, switch_record

NAMES = {0: "supervisor", 1: "gpio", 2: "blinky", 3: "logger"}


def records(seed=0, cycles=100):
    """A list of 8-byte ring records for `cycles` rounds of activity."""
    rng = random.Random(seed)
    R = record
    t_us = rng.randrange(1 << 30)
    t_ms = t_us // 1000
    gen = {s: 0 for s in NAMES}
    restarts = {s: 0 for s in NAMES}
    level = 0
    out = [R(abi.TR_BOOT, abi.KERNEL_SLOT, abi.ABI_VERSION, 0)]
    for s in NAMES:
        out.append(R(abi.TR_STATE, s, abi.ST_RUNNABLE | (s and 2) << 8, 0))

    def switch(slot):
        nonlocal t_us
        t_us = (t_us + rng.randint(20, 400)) % (1 << 30)
        out.append(switch_record(slot, t_us, gen[slot]))

    for i in range(cycles):
        client = rng.choice((2, 3))
        switch(client)
        op = rng.randint(1, 4)
        out.append(R(abi.TR_SEND, client, 1 | op << 8, rng.randint(0, 16)))
        switch(1)
        out.append(R(abi.TR_RECV, 1, client | op << 8, 4))
        if op == 1:
            level ^= 1
            t_ms = (t_ms + rng.randint(1, 50)) % (1 << 30)
            out.append(R(abi.TR_PIN, 1, 2, level | t_ms << 1))
        out.append(R(abi.TR_REPLY, 1, client | 0 << 8, rng.randint(0, 8)))
        switch(client)
        if rng.random() < 0.3:
            out += log_records(client, f"cycle {i} level={level} \u00b0")
        out.append(R(abi.TR_SYSCALL, client, abi.SYS_SLEEP, 10))
        if i % 8 == 0:
            out.append(R(abi.TR_HEAP, abi.KERNEL_SLOT, 0, 20000 + rng.randint(0, 4000)))
        if rng.random() < 0.03:
            out.append(R(abi.TR_FAULT, client, abi.F_EXCEPTION | abi.ST_RUNNABLE << 8, 0))
            switch(0)
            out.append(R(abi.TR_RECV, 0, abi.KERNEL_SLOT, 0))
            gen[client] += 1
            restarts[client] += 1
            out.append(R(abi.TR_RESTART, client, gen[client], restarts[client]))
    return out


def console(seed=0, cycles=100, text_every=3, per_frame=abi.FRAME_MAX_RECORDS):
    """Console bytes: the records cut into frames, text lines in between."""
    rng = random.Random(seed + 1)
    recs = records(seed, cycles)
    out = bytearray(b"Keep booting\r\n")
    seq = 0
    i = 0
    while i < len(recs):
        n = rng.randint(1, per_frame)
        out += encode_frame(recs[i:i + n], seq)
        seq = (seq + 1) & 0xFFFF
        i += n
        if text_every and seq % text_every == 0:
            out += f"app: tick {seq} \u2713\r\n".encode()
    return bytes(out)
