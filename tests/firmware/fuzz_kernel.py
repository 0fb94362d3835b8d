# heapsize: 512K
# Kernel fuzzer: random (often invalid) syscalls from many tasks, checked
# against a reference model of the IPC state machine after every step.
#
# `micropython fuzz_kernel.py` runs the short seeded campaign that `make
# test` uses: 8000 syscalls on the unix port, one round of 400 on a board
# (8000 take ~4 s on the unix port and ~10 min on the emulated Pico, most
# of it the model's checks; on a board the campaign is about 32-bit ints
# and the real firmware, not coverage); bench/fuzz.py runs
#   micropython fuzz_kernel.py SEED SYSCALLS [json]
# for the long one and reads the last output line (a JSON object).
#
# How a step works. Every fuzz task, each time the kernel resumes it,
# (1) stores the result of its previous syscall in `got[slot]`, (2) asks
# `plan()` for its next action, (3) calls kernel.stop() and (4) issues the
# syscall. The loop returns after that one slice, so kernel.run() runs
# exactly one slice per call. Time is a fake clock (kernel.ticks_ms and
# timers.ticks_ms are replaced) that only the driver and the idle hook
# advance, so timeouts are deterministic. Between slices the driver may
# inject kernel.restart / hold / release, fault.fault and irq.post.
#
# The model (class Model) is written from docs/kernel.md, not from the
# kernel's code: per slot it keeps state, peer, generation, base priority,
# notification word and mask, the number of its latest call and which
# server holds that call unanswered, the server's sender queue (with each
# message as it was at send), the deadline and the result the task must
# see when it next runs. After every step the driver compares it with
# keep.tcb (state, peer, gen, notes, mask, call numbers, held calls, sender
# queue order, deadline, effective priority of live tasks, fault kind),
# checks that the slot the kernel ran was runnable and of the most
# important priority, that the task saw the predicted result, and that the
# fake clock moved exactly to the next live deadline when all were idle.
#
# What the model checks is the documented contract: a wrong argument type
# or range, or a stray argument, is a `badarg` fault of the caller; a
# syscall on another task's handle faults the caller (misuse); a reply
# answers exactly the call it names, and one to a call that is over is
# dropped (docs/kernel.md, Syscalls). Some rounds load a random grant table
# (send and notify obey it), and between slices the driver may rewrite a
# bytearray a task has queued in a send (an interrupt handler or another
# task doing so): the server must see the message as it was at send.
# Where the kernel does something else the round stops and the mismatch is
# printed with the seed and the last actions (a repro).

import sys

from keep import abi, caps, fault, irq, kernel, svc, tcb, timers

NONE = 0xFF
RUN = abi.ST_RUNNABLE
IN_SEND = abi.ST_IN_SEND
IN_REPLY = abi.ST_IN_REPLY
IN_RECV = abi.ST_IN_RECV
IN_WAIT = abi.ST_IN_WAIT
SLEEP = abi.ST_SLEEPING
FAULTED = abi.ST_FAULTED
HELD = abi.ST_HELD
DONE = abi.ST_DONE
EMPTY = abi.ST_EMPTY
STATE = ("runnable", "in_send", "in_reply", "in_recv", "in_wait", "sleeping",
         "faulted", "held", "done", "empty")

# ---- deterministic random numbers (xorshift32; no dependency on `random`) ----
_x = [1]


def seed(n):
    _x[0] = (n * 2654435761 + 12345) & 0xFFFFFFFF or 1


def rnd(n):
    x = _x[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    _x[0] = x
    return x % n


def pick(seq):
    return seq[rnd(len(seq))]


def rbytes(n):
    b = bytearray(n)
    for i in range(n):
        b[i] = rnd(256)
    return bytes(b)


# ---- the fake clock --------------------------------------------------------
clock = [1000]


def fake_ms():
    return clock[0]


def idle(wait_ms):
    if wait_ms > 0:
        clock[0] += wait_ms


kernel.ticks_ms = fake_ms
timers.ticks_ms = fake_ms

# ---- argument generators -----------------------------------------------------
JUNK = ("x", 1.5, [1], b"", None, -1, 1 << 33)


def ok_int(v):
    return type(v) is int


def valid_timeout(t):
    return t is None or (ok_int(t) and 0 <= t <= abi.TIMEOUT_MAX_MS)


def valid_data(d):
    return d is None or isinstance(d, (bytes, bytearray, memoryview))


# ---- the tasks ---------------------------------------------------------------
got = {}  # slot -> result of the previous syscall, as the task saw it
acts = {}  # slot -> the action it is issuing in this slice
ran = [NONE]
W = None  # the world: set per round (ntasks, max_msg)


def some_id(me):
    """A task id: live, stale, own, unknown slot, or negative."""
    r = rnd(10)
    n = W.ntasks
    if r < 5:
        s = rnd(n)
        return tcb.gen[s] << 8 | s
    if r < 7:
        s = rnd(n)
        g = tcb.gen[s]
        return (g - 1 if g else g + 1) << 8 | s
    if r < 8:
        return tcb.gen[me] << 8 | me
    if r < 9:
        return n + rnd(256 - n)
    return pick((-1, -256, 1 << 40))


def some_call(me, senders):
    """A call id: one this task received, an older one, a task id, junk."""
    r = rnd(10)
    if senders and r < 6:
        return pick(senders)
    if r < 7:  # a call id of some task, current number or an older one
        s = rnd(W.ntasks)
        q = (tcb.call[s] >> 8) - rnd(2)
        return ~((q if q > 0 else 1) << 8 | s)
    if r < 9:
        return some_id(me)  # a task id: not a call id
    return pick((-1, -256, ~(5 << 8 | 200), -(1 << 40)))


def some_data():
    r = rnd(10)
    if r < 2:
        return None
    if r < 6:
        return rbytes(rnd(W.max_msg + 1))
    if r < 7:
        return rbytes(W.max_msg + 1 + rnd(8))  # oversize
    return bytearray(rbytes(rnd(W.max_msg + 1)))  # the driver may rewrite it while queued


def some_timeout():
    r = rnd(3)
    return None if r == 0 else rnd(12)


def some_mask():
    r = rnd(6)
    if r == 0:
        return 0
    if r == 1:
        return abi.NOTE_FAULT | (1 << rnd(4))
    return (1 << rnd(6)) | (1 << rnd(6))


# Kernel bugs this fuzzer found, as (syscall, argument index, junk). The
# default campaign keeps generating them, so it fails until they are fixed;
# `avoid` (bench/fuzz.py --avoid-known) skips them to look for new ones.
KNOWN = ()  # all fixed: float / out-of-range arguments, the blocked-server wake-up
avoid = [False]


def corrupt(kind, args, i):
    """Replace argument i with junk that is invalid for it."""
    a = list(args)
    while True:
        j = pick(JUNK)
        if not avoid[0] or not any(k == kind and n == i and repr(v) == repr(j) for k, n, v in KNOWN):
            break
    a[i] = j
    return tuple(a)


STRAY = ("send", "recv", "reply", "notify", "wait", "sleep", "yield", "log", "fault")


def plan(me, senders):
    """The next action of task `me`: (kind, args)."""
    r = rnd(100)
    bad = rnd(100) < 12  # one argument of wrong type or range
    if rnd(100) < 2:  # a stray positional argument (one or more)
        return ("stray", (pick(STRAY), 1 + rnd(3)))
    if rnd(100) < 2:  # a syscall on another task's handle
        return ("alien", ((me + 1 + rnd(W.ntasks - 1)) % W.ntasks, pick(STRAY)))
    if r < 30:
        args = (some_id(me), rnd(256), some_data(), None, some_timeout())
        if bad:
            args = corrupt("send", args, pick((0, 1, 2, 4)))
        return ("send", args)
    if r < 50:
        args = (some_timeout(), some_mask() if rnd(2) else 0)
        if bad:
            args = corrupt("recv", args, rnd(2))
        return ("recv", args)
    if r < 66:
        if senders and rnd(10) < 8:
            c = senders[rnd(len(senders))]
            if rnd(10) < 8:
                senders.remove(c)  # sometimes keep it: a double reply
        else:
            c = some_call(me, senders)
        args = (c, rnd(256) - 128, some_data())
        if bad:
            args = corrupt("reply", args, rnd(3))
        return ("reply", args)
    if r < 74:
        args = (some_id(me), some_mask() or 1)
        if bad:
            args = corrupt("notify", args, rnd(2))
        return ("notify", args)
    if r < 82:
        args = (some_mask() or 2, some_timeout())
        if bad:
            args = corrupt("wait", args, rnd(2))
        return ("wait", args)
    if r < 88:
        args = (rnd(6),)
        if bad:
            args = corrupt("sleep", args, 0)
        return ("sleep", args)
    if r < 92:
        return ("yield", ())
    if r < 95:
        return ("log", (pick(("hello", b"bytes", "x" * 300, 42, None)),))
    if r < 96:
        return ("fault", ("fuzz",))
    if r < 97:
        return ("raise", ())
    if r < 98:
        return ("misuse", ())
    if r < 99:
        return ("foreign", ())
    return ("return", ())


def foreign():
    yield


# A syscall with a stray positional argument (`n` extra): the first stands
# where a kernel table is bound in the hot syscalls (keep/task.py).
STRAY_CALLS = {
    "send": lambda k, x: k.send(0, 1, None, None, None, *x),
    "recv": lambda k, x: k.recv(None, 0, *x),
    "reply": lambda k, x: k.reply(-257, 0, None, *x),
    "notify": lambda k, x: k.notify(0, 1, *x),
    "wait": lambda k, x: k.wait(1, None, *x),
    "sleep": lambda k, x: k.sleep_ms(0, *x),
    "yield": lambda k, x: k.yield_(*x),
    "log": lambda k, x: k.log(b"x", *x),
    "fault": lambda k, x: k.fault("x", *x),
}
# Valid calls, made on another task's handle.
ALIEN_CALLS = {
    "send": lambda h: h.send(0, 1),
    "recv": lambda h: h.recv(0),
    "reply": lambda h: h.reply(-257),
    "notify": lambda h: h.notify(0, 1),
    "wait": lambda h: h.wait(1, 0),
    "sleep": lambda h: h.sleep_ms(1),
    "yield": lambda h: h.yield_(),
    "log": lambda h: h.log(b"x"),
    "fault": lambda h: h.fault("x"),
}
outbox = {}  # slot -> the bytearray its current send passed (the driver may rewrite it)


async def fuzz_task(k, me):
    res = None
    senders = []
    while True:
        got[me] = res
        act = plan(me, senders)
        acts[me] = act
        ran[0] = me
        kernel.stop()
        kind, a = act
        if kind == "send":
            if isinstance(a[2], bytearray):
                outbox[me] = a[2]
            r = await k.send(*a)
            outbox.pop(me, None)
            res = ("send", r.rc, r.reply_data())
        elif kind == "recv":
            m = await k.recv(*a)
            # (m.badge is meaningful for a message only)
            res = ("recv", m.rc, m.sender, m.call, m.badge if m.sender >= 0 else 0, m.op,
                   m.data(), m.bits)
            if m.sender >= 0:
                senders.append(m.call)
        elif kind == "reply":
            res = ("rc", await k.reply(*a))
        elif kind == "notify":
            res = ("rc", await k.notify(*a))
        elif kind == "wait":
            m = await k.wait(*a)
            res = ("wait", m.rc, m.bits)
        elif kind == "sleep":
            res = ("rc", await k.sleep_ms(*a))
        elif kind == "yield":
            res = ("rc", await k.yield_())
        elif kind == "log":
            res = ("rc", await k.log(*a))
        elif kind == "fault":
            await k.fault(*a)
            res = ("resumed after fault()",)
        elif kind == "raise":
            raise ValueError("fuzz")
        elif kind == "misuse":
            k.yield_()  # no await: the next syscall is a misuse fault
            await k.yield_()
            res = ("resumed after misuse",)
        elif kind == "foreign":
            await foreign()
            res = ("resumed after foreign await",)
        elif kind == "stray":
            what, n = a
            await STRAY_CALLS[what](k, (0,) * n)
            res = ("resumed after a stray argument",)
        elif kind == "alien":
            slot, what = a
            await ALIEN_CALLS[what](tcb.handle[slot])
            res = ("resumed after a syscall on another handle",)
        else:
            return


# ---- the reference model -------------------------------------------------------


class Mismatch(Exception):
    pass


class Model:
    """The IPC state machine of docs/kernel.md, for MicroPython-free reading."""

    def __init__(self, n, prios, max_msg, sup, grants):
        self.n = n
        self.max_msg = max_msg
        self.sup = sup
        self.grants = grants  # None, or per slot {dest: badge}; badge -1: notify only
        self.st = [RUN] * n
        self.peer = [NONE] * n
        self.gen = [0] * n
        self.base = list(prios)
        self.notes = [0] * n
        self.mask = [0] * n
        self.calln = [0] * n  # number of each task's latest call (never reset)
        self.held = [NONE] * n  # the server holding a task's latest call unanswered
        self.q = [[] for _ in range(n)]  # sender queue per server, FIFO
        self.msg = [None] * n  # (op, data as it was at send) of a queued sender
        self.dl = [None] * n  # deadline (fake ms) or None
        self.expect = [None] * n  # what the task must see when it next runs
        self.kind = [0] * n  # fault kind of a faulted task

    # -- derived -----------------------------------------------------------
    def eff(self):
        """Effective priorities: own base, or a waiting client's, transitively."""
        memo = [None] * self.n

        def e(s, depth):
            if memo[s] is not None:
                return memo[s]
            p = self.base[s]
            if depth < 20:
                for t in range(self.n):
                    if self.st[t] in (IN_SEND, IN_REPLY) and self.peer[t] == s:
                        p = min(p, e(t, depth + 1))
            memo[s] = p
            return p

        return [e(s, 0) for s in range(self.n)]

    def runnable(self):
        return [s for s in range(self.n) if self.st[s] == RUN]

    def tid(self, s):
        return self.gen[s] << 8 | s

    def call_id(self, c):
        return ~(self.calln[c] << 8 | c)

    def badge(self, src, dest):
        """The badge of src's grant to dest; -1 when it may not send."""
        return 0 if self.grants is None else self.grants[src].get(dest, -1)

    def may_notify(self, src, dest):
        g = self.grants
        return g is None or src == dest or dest in g[src] or g[dest].get(src, -1) >= 0

    # -- internal transitions ------------------------------------------------
    def wake(self, s, res):
        self.st[s] = RUN
        self.peer[s] = NONE
        self.dl[s] = None
        self.expect[s] = res

    def post(self, s, bits):
        self.notes[s] |= bits
        if self.st[s] in (IN_WAIT, IN_RECV):
            pend = self.notes[s] & self.mask[s]
            if pend:
                self.notes[s] ^= pend
                if self.st[s] == IN_WAIT:
                    self.wake(s, ("wait", 0, pend))
                else:
                    self.wake(s, ("recv", 0, -1, -1, 0, -1, b"", pend))

    def unqueue(self, s):
        srv = self.peer[s]
        if s in self.q[srv]:
            self.q[srv].remove(s)
        self.msg[s] = None

    def release_clients(self, s):
        for t in range(self.n):
            if self.held[t] == s:  # a stopped server holds no call
                self.held[t] = NONE
            if self.st[t] in (IN_SEND, IN_REPLY) and self.peer[t] == s:
                if self.st[t] == IN_SEND:
                    self.unqueue(t)
                self.wake(t, ("send", abi.E_DEAD, b""))
        self.q[s] = []

    def detach(self, s):
        if self.st[s] == IN_SEND:
            self.unqueue(s)
        self.dl[s] = None

    def fault(self, s, kind, alt=0):
        """Fault s; `alt` is a second acceptable kind (two errors at once)."""
        if self.st[s] in (FAULTED, EMPTY, DONE):
            return
        self.detach(s)
        self.st[s] = FAULTED
        self.kind[s] = (kind, alt)
        self.release_clients(s)
        self.notes[s] = 0
        self.expect[s] = None
        if self.sup != NONE and self.sup != s:
            self.post(self.sup, abi.NOTE_FAULT)

    def done(self, s):
        if self.st[s] >= FAULTED:
            return
        self.detach(s)
        self.st[s] = DONE
        self.release_clients(s)
        self.expect[s] = None

    def restart(self, s):
        if self.st[s] not in (FAULTED, DONE, HELD):
            self.fault(s, abi.F_INJECTED)
        self.gen[s] += 1
        self.notes[s] = 0
        self.q[s] = []
        self.st[s] = RUN
        self.peer[s] = NONE
        self.dl[s] = None
        self.expect[s] = None

    def hold(self, s):
        if self.st[s] in (HELD, DONE, EMPTY):
            return
        self.detach(s)
        self.st[s] = HELD
        self.release_clients(s)
        self.expect[s] = None

    def release(self, s):
        if self.st[s] in (HELD, FAULTED, DONE):
            self.restart(s)

    def expire(self, now):
        for s in range(self.n):
            d = self.dl[s]
            if d is None or d > now:
                continue
            st = self.st[s]
            if st == SLEEP:
                self.wake(s, self.expect[s])
            elif st in (IN_SEND, IN_REPLY):
                if st == IN_SEND:
                    self.unqueue(s)
                self.wake(s, ("send", abi.E_TIMEOUT, b""))
            elif st == IN_RECV:
                self.wake(s, ("recv", abi.E_TIMEOUT, -1, -1, 0, -1, b"", 0))
            elif st == IN_WAIT:
                self.wake(s, ("wait", abi.E_TIMEOUT, 0))
            else:
                self.dl[s] = None

    def next_deadline(self):
        ds = [d for d in self.dl if d is not None]
        return min(ds) if ds else None

    # -- syscalls: what the running task `me` asked for ------------------------
    def badarg(self, me):
        self.fault(me, abi.F_BADARG)

    def syscall(self, me, kind, a, now):
        ret = self.ret
        if kind == "send":
            dest, op, data, _lease, tmo = a
            if not (ok_int(dest) and dest >= 0):
                return self.badarg(me)
            s = dest & 0xFF
            if not (ok_int(op) and 0 <= op <= 255 and valid_data(data) and valid_timeout(tmo)):
                # Two errors at once (bad argument, no such task): the docs
                # do not rank them, so either fault kind is right.
                return self.fault(me, abi.F_BADARG, abi.F_NOTASK if s >= self.n else 0)
            if s >= self.n:
                return self.fault(me, abi.F_NOTASK)
            n = 0 if data is None else len(data)
            badge = self.badge(me, s)
            if badge < 0:
                return ret(me, ("send", abi.E_DENIED, b""))
            if n > self.max_msg:
                return ret(me, ("send", abi.E_TOOBIG, b""))
            if self.gen[s] != dest >> 8 or self.st[s] >= FAULTED:
                return ret(me, ("send", abi.E_DEAD, b""))
            t = s
            while True:
                if t == me:
                    return ret(me, ("send", abi.E_DEADLOCK, b""))
                if self.st[t] not in (IN_SEND, IN_REPLY):
                    break
                t = self.peer[t]
            self.peer[me] = s
            self.expect[me] = None
            self.calln[me] += 1
            body = b"" if data is None else bytes(data)  # the message as it is now
            if self.st[s] == IN_RECV:
                self.st[me] = IN_REPLY
                self.held[me] = s
                self.wake(s, ("recv", 0, self.tid(me), self.call_id(me), badge, op, body, 0))
            else:
                self.st[me] = IN_SEND
                self.held[me] = NONE
                self.q[s].append(me)
                self.msg[me] = (op, body)
            if tmo is not None:
                self.dl[me] = now + tmo
            return
        if kind == "recv":
            tmo, mask = a
            if not (valid_timeout(tmo) and ok_int(mask) and 0 <= mask <= 0xFFFFFFFF):
                return self.badarg(me)
            pend = self.notes[me] & mask
            if pend:
                self.notes[me] ^= pend
                return ret(me, ("recv", 0, -1, -1, 0, -1, b"", pend))
            if not self.q[me]:
                self.st[me] = IN_RECV
                self.mask[me] = mask
                self.expect[me] = None
                if tmo is not None:
                    self.dl[me] = now + tmo
                return
            e = self.eff()
            best = self.q[me][0]
            for c in self.q[me]:
                if e[c] < e[best]:
                    best = c
            self.q[me].remove(best)
            op, body = self.msg[best]
            self.msg[best] = None
            self.st[best] = IN_REPLY
            self.held[best] = me
            return ret(me, ("recv", 0, self.tid(best), self.call_id(best),
                            max(self.badge(best, me), 0), op, body, 0))
        if kind == "reply":
            call, rc, data = a
            if not ok_int(call):
                return self.badarg(me)
            x = ~call  # a call id is ~(number << 8 | slot), number >= 1
            c = x & 0xFF
            if x < 256 or x >= 1 << 30 or c >= self.n:
                why = abi.F_BADREPLY  # not a call id (a task id, say)
            elif x >> 8 != self.calln[c]:
                why = 0  # a call that is over: dropped
            elif self.held[c] != me:
                why = abi.F_BADREPLY  # answered already, or never received here
            else:
                why = None
            if not (ok_int(rc) and -128 <= rc <= 127 and valid_data(data)):
                # Two errors at once: the docs do not rank them.
                return self.fault(me, abi.F_BADARG, why or 0)
            if why == abi.F_BADREPLY:
                return self.fault(me, abi.F_BADREPLY)
            if why == 0:
                return ret(me, ("rc", 0))
            n = 0 if data is None else len(data)
            if n > self.max_msg:
                return ret(me, ("rc", abi.E_TOOBIG))
            self.held[c] = NONE
            if self.st[c] == IN_REPLY and self.peer[c] == me:
                self.wake(c, ("send", rc, b"" if data is None else bytes(data)))
            return ret(me, ("rc", 0))
        if kind == "notify":
            dest, bits = a
            if not (ok_int(dest) and ok_int(bits) and 0 <= bits <= 0xFFFFFFFF):
                return self.badarg(me)
            if bits & abi.NOTE_KERNEL:  # only the kernel posts these
                return self.badarg(me)
            s = dest & 0xFF
            if dest < 0 or s >= self.n:
                return self.fault(me, abi.F_NOTASK)
            if not self.may_notify(me, s):
                return ret(me, ("rc", abi.E_DENIED))
            if self.gen[s] != dest >> 8 or self.st[s] >= FAULTED:
                return ret(me, ("rc", abi.E_DEAD))
            self.post(s, bits)
            return ret(me, ("rc", 0))
        if kind == "wait":
            mask, tmo = a
            if not (ok_int(mask) and 0 < mask <= 0xFFFFFFFF and valid_timeout(tmo)):
                return self.badarg(me)
            pend = self.notes[me] & mask
            if pend:
                self.notes[me] ^= pend
                return ret(me, ("wait", 0, pend))
            self.st[me] = IN_WAIT
            self.mask[me] = mask
            self.expect[me] = None
            if tmo is not None:
                self.dl[me] = now + tmo
            return
        if kind == "sleep":
            (ms,) = a
            if not (ok_int(ms) and 0 <= ms <= abi.TIMEOUT_MAX_MS):
                return self.badarg(me)
            self.expect[me] = ("rc", 0)
            if ms:
                self.st[me] = SLEEP
                self.dl[me] = now + ms
            return
        if kind == "yield":
            return ret(me, ("rc", 0))
        if kind == "log":
            if not isinstance(a[0], (str, bytes, bytearray, memoryview)):
                return self.badarg(me)
            return ret(me, ("rc", 0))
        if kind == "fault":
            return self.fault(me, abi.F_SELF)
        if kind == "raise":
            return self.fault(me, abi.F_EXCEPTION)
        if kind in ("misuse", "foreign", "alien"):
            return self.fault(me, abi.F_MISUSE)
        if kind == "stray":
            return self.badarg(me)
        if kind == "return":
            return self.done(me)
        raise ValueError(kind)

    def ret(self, me, res):
        self.expect[me] = res


# ---- comparing the model with keep.tcb ------------------------------------------


def kqueue(s):
    out = []
    q = tcb.sq_head[s]
    while q != NONE and len(out) <= tcb.MAX_TASKS:
        out.append(q)
        q = tcb.sq_next[q]
    return out


def compare(m):
    """Differences between the model and the kernel, as strings."""
    diffs = []
    e = m.eff()
    for s in range(m.n):
        st = tcb.state[s]
        if st != m.st[s]:
            diffs.append("slot %d state %s, model %s" % (s, STATE[st], STATE[m.st[s]]))
            continue
        if st in (IN_SEND, IN_REPLY) and tcb.peer[s] != m.peer[s]:
            diffs.append("slot %d peer %d, model %d" % (s, tcb.peer[s], m.peer[s]))
        if tcb.gen[s] != m.gen[s]:
            diffs.append("slot %d gen %d, model %d" % (s, tcb.gen[s], m.gen[s]))
        if tcb.notes[s] != m.notes[s]:
            diffs.append("slot %d notes %x, model %x" % (s, tcb.notes[s], m.notes[s]))
        if st in (IN_RECV, IN_WAIT) and tcb.mask[s] != m.mask[s]:
            diffs.append("slot %d mask %x, model %x" % (s, tcb.mask[s], m.mask[s]))
        if tcb.held[s] != m.held[s]:
            diffs.append("slot %d held by %d, model %d" % (s, tcb.held[s], m.held[s]))
        if tcb.call[s] != m.calln[s] << 8 | s:
            diffs.append("slot %d call %x, model number %d" % (s, tcb.call[s], m.calln[s]))
        kq = kqueue(s)
        if kq != m.q[s]:
            diffs.append("slot %d sender queue %r, model %r" % (s, kq, m.q[s]))
        armed = bool(tcb.timed[s])
        if armed != (m.dl[s] is not None):
            diffs.append("slot %d timer armed %r, model deadline %r" % (s, armed, m.dl[s]))
        elif armed and tcb.deadline[s] != m.dl[s]:
            diffs.append("slot %d deadline %d, model %d" % (s, tcb.deadline[s], m.dl[s]))
        if st < FAULTED and tcb.prio[s] != e[s]:
            diffs.append("slot %d effective prio %d, model %d" % (s, tcb.prio[s], e[s]))
        if st == FAULTED:
            r = fault.records.get(s)
            if r is None or r.kind not in m.kind[s]:
                diffs.append("slot %d fault kind %r, model %r (%s)" % (
                    s, r and r.kind, m.kind[s], r and r.text()))
    return diffs


# ---- the driver -------------------------------------------------------------------


class World:
    pass


stats = {"syscalls": 0, "steps": 0, "rounds": 0, "deaths": 0, "mismatches": 0,
         "events": 0, "faults": 0}
reports = []
sigs = {}  # mismatch signature (last action -> first difference) -> count


def report(text):
    if len(reports) < 12:
        reports.append(text)


def round_(rseed, steps):
    """One kernel boot with random tasks; returns False on a death/mismatch."""
    global W
    seed(rseed)
    W = World()
    W.ntasks = 6 + rnd(5)
    W.max_msg = pick((8, 16, 32, 64))
    kernel.boot(max_msg=W.max_msg, trace_records=64)
    kernel.idle_hook = idle
    clock[0] = 1000
    got.clear()
    acts.clear()
    outbox.clear()
    prios = [rnd(8) for _ in range(W.ntasks)]
    for s in range(W.ntasks):
        kernel.spawn(fuzz_task, prios[s], "f%d" % s, (s,))
    sup = 0 if rnd(2) else NONE
    if sup != NONE:
        svc.set_supervisor(sup)
    grants = None
    if rnd(3) == 0:  # a manifest: random send grants (badges) and notify-only grants (-1)
        table = []
        for s in range(W.ntasks):
            row = []
            for d in range(W.ntasks):
                r = rnd(4) if d != s else 3
                if r == 0:
                    row.append((d, rnd(1000)))
                elif r == 1:
                    row.append((d, -1))
            table.append(tuple(row))
        caps.load(table)
        grants = [dict(row) for row in table]
    m = Model(W.ntasks, prios, W.max_msg, sup, grants)
    log = []
    stats["rounds"] += 1
    for step in range(steps):
        # -- between slices: injected events and time --------------------------
        r = rnd(100)
        ev = None
        if r < 8:
            s = rnd(W.ntasks)
            what = rnd(5)
            if what == 0:
                ev = ("restart", s)
                kernel.restart(s)
                m.restart(s)
            elif what == 1:
                ev = ("hold", s)
                kernel.hold(s)
                m.hold(s)
            elif what == 2:
                ev = ("release", s)
                kernel.release(s)
                m.release(s)
            elif what == 3:
                ev = ("inject", s)
                fault.fault(s, abi.F_INJECTED, 0, "fuzz inject")
                m.fault(s, abi.F_INJECTED)
            else:
                b = 1 << rnd(8)
                ev = ("irq", s, b)
                irq.post(s, b)
            stats["events"] += 1
        elif r < 20:
            clock[0] += 1 + rnd(4)
        elif r < 40 and [s for s in outbox if tcb.state[s] == IN_SEND]:
            # Rewrite a buffer a task passed to send while the call waits
            # (an interrupt handler or another task of the app): the server
            # must see the message as it was at send (the model's copy).
            queued = [s for s in sorted(outbox) if tcb.state[s] == IN_SEND]
            s = queued[rnd(len(queued))]
            b = outbox[s]
            for i in range(len(b)):
                b[i] = 0xEE
            ev = ("tamper", s)
            stats["events"] += 1
        if len(log) > 12:
            del log[:4]
        if ev:
            log.append(ev)
        # -- the model's view of the loop's first iteration -------------------
        for s in range(W.ntasks):  # irq bits are folded in first
            b = irq.pending[s]
            if b:
                m.post(s, b)
        m.expire(clock[0])
        want_clock = clock[0]
        if not m.runnable():
            d = m.next_deadline()
            if d is not None:
                want_clock = d
                m.expire(d)
        ready = m.runnable()
        # -- one slice -------------------------------------------------------------
        ran[0] = NONE
        try:
            kernel.run(until_idle=True)
        except Exception as exc:  # the kernel must never die
            stats["deaths"] += 1
            report("DEATH seed=%d step=%d: %r; last %r" % (rseed, step, exc, log[-8:]))
            return False
        stats["steps"] += 1
        s = ran[0]
        diffs = []
        if clock[0] != want_clock:
            # Idle, the kernel waits exactly until the next live deadline,
            # never for one a reply or a wake-up cancelled.
            diffs.append("clock %d, model %d" % (clock[0], want_clock))
        if s == NONE:
            if ready:
                diffs.append("nothing ran, model had runnable %r" % ready)
            log.append(("idle",))
            if not diffs and not any(st < FAULTED and st != IN_RECV and st != IN_WAIT
                                     and st != IN_SEND and st != IN_REPLY for st in m.st):
                # Everyone waits forever or is stopped: shake the board.
                t = rnd(W.ntasks)
                if m.st[t] >= FAULTED:
                    kernel.release(t)
                    m.release(t)
                    log.append(("release", t))
                else:
                    irq.post(t, 0xFF)
                    log.append(("irq", t, 0xFF))
        else:
            act = acts[s]
            log.append((s, act[0], act[1]))
            stats["syscalls"] += 1
            e = m.eff()
            if s not in ready:
                diffs.append("slot %d ran but the model had it %s" % (s, STATE[m.st[s]]))
            elif e[s] != min(e[t] for t in ready):
                diffs.append("slot %d (prio %d) ran while %r were runnable at prio %d" % (
                    s, e[s], [t for t in ready if e[t] < e[s]], min(e[t] for t in ready)))
            if got.get(s) != m.expect[s]:
                diffs.append("slot %d saw %r, model %r" % (s, got.get(s), m.expect[s]))
            before = m.st[:]
            m.syscall(s, act[0], act[1], clock[0])
            if m.st[s] == FAULTED and before[s] != FAULTED:
                stats["faults"] += 1
        diffs += compare(m)
        if diffs:
            stats["mismatches"] += 1
            last = log[-1] if log else ("?",)
            sig = "%s -> %s" % (last[1] if len(last) > 2 else last[0],
                                " ".join(w for w in diffs[0].split()[:4] if not w[0].isdigit()))
            sigs[sig] = sigs.get(sig, 0) + 1
            report("MISMATCH seed=%d step=%d:\n  %s\n  last: %r" % (
                rseed, step, "\n  ".join(diffs), log[-6:]))
            return False
    return True


def campaign(seed0, syscalls, steps_per_round=400):
    rs = seed0
    while stats["syscalls"] < syscalls:
        round_(rs, steps_per_round)
        rs += 1


def main():
    argv = sys.argv[1:]
    if "--avoid-known" in argv:
        argv.remove("--avoid-known")
        avoid[0] = True
    seed0 = int(argv[0]) if argv else 1
    n = int(argv[1]) if len(argv) > 1 else 8000 if sys.platform in ("linux", "darwin") else 400
    campaign(seed0, n)
    for r in reports[:5]:
        print(r)
    for k in sorted(sigs):
        print("signature %5d  %s" % (sigs[k], k))
    if len(argv) > 2:
        print('{"fuzz_syscalls": %d, "fuzz_kernel_deaths": %d, "fuzz_model_mismatches": %d, '
              '"fuzz_rounds": %d, "fuzz_faults": %d, "fuzz_injected_events": %d}' % (
                  stats["syscalls"], stats["deaths"], stats["mismatches"], stats["rounds"],
                  stats["faults"], stats["events"]))
        return
    print("fuzz: %d syscalls in %d rounds, %d faults, %d injected events, %d deaths, %d mismatches" % (
        stats["syscalls"], stats["rounds"], stats["faults"], stats["events"], stats["deaths"],
        stats["mismatches"]))
    if stats["deaths"] or stats["mismatches"]:
        raise SystemExit(1)
    print("ok")


main()
