"""Console command channel: the host inspects and steers a running kernel.

The host lists tasks, holds, releases and faults a task, and calls a server
op, over the same console that carries the REPL, console text and trace
frames - no debug probe, and the kernel never stops. The board layer calls
poll() from the kernel's tick and idle hooks (boot.py's console_hook); it
reads whatever stdin holds without blocking, picks out request lines and
answers them at once, except `call`, which a tiny kernel task (the host
proxy, named "console") makes on the host's behalf. The proxy is spawned
by the first `call` (runtime/conreq.py), in the next free slot, and kept for
later calls: a board the host never calls pays nothing for it.

Wire format (numbers in abi.py, the full table in docs/tools.md):

    request  0x1F '?' SEQ ' ' COMMAND [' ' ARG]... '*' CRC '\\n'
    reply    0x1F '=' SEQ ' ' JSON '*' CRC '\\n'

SEQ is 4 hex digits chosen by the host, CRC four hex digits of
CRC-16/CCITT-FALSE over everything from '?' / '=' to before '*'. 0x1F is
never printed by the kernel and no terminal binds it; Ctrl-C (0x03) stays
the interrupt character, so the host can always stop the kernel the usual
way. Commands: ping, tasks, hold T, release T, fault T [KIND], call T OP
[HEX] (T a task name or slot number).

Invariants:
- poll() never blocks and allocates nothing while stdin is empty; a request
  is handled in kernel context (between slices: tcb.cur is NONE), where
  hold/release/fault are safe. It allocates on the request path only.
- A request whose CRC fails is dropped unanswered (the host resends); a
  resent request (the SEQ of the last answer, or of the last call) gets
  the same reply again and is not executed twice, so a lost reply never
  doubles a fault, a restart or a call.
- A reply is written with one write(), so it never interleaves with a trace
  frame (drain also writes whole frames) or another reply.
- The proxy sends from its own task with the console badge and a timeout;
  the server sees an ordinary client, and the kernel loop never waits.
  It is spawned in kernel context, between slices, where kernel.spawn is
  safe: kernel.run() holds only the MAX_TASKS-long tcb arrays, and its
  next pop finds the new slot on its ready queue.

Checking, running and answering a request is runtime/conreq.py, loaded on the
first request: a board the host never asks anything pays only for this part.
"""

import sys

from micropython import const

from keep import tcb

_START = const(0x1F)  # abi.CONSOLE_START
_LINE_MAX = const(200)  # abi.CONSOLE_LINE_MAX
_NONE = const(0xFF)

_line = None  # bytearray(_LINE_MAX), made at the first request's start byte
_one = bytearray(1)
_n = -1  # bytes of the request collected in _line; -1: not inside a request
_poller = None
_read1 = None
out = None  # has write(bytes); None: drain.sink, else sys.stdout.buffer
proxy = _NONE  # slot of the host proxy task, _NONE until the first call starts it
_prio = 7  # the proxy's priority; -1: no proxy on this board (calls refused)
call_timeout_ms = 1000
_call = None  # [seq, dest id, op, data] while the proxy works on a call
_last = [None, None, None, None]  # seq, reply of the last answer; the same for the last call
bad_crc = 0  # requests dropped for a bad checksum (the host resent them)
requests = 0


def start(with_proxy=True, prio=7, stream_in=None, sink=None, timeout_ms=1000):
    """Listen on the console. The host proxy task (for `call`, at `prio`) is
    spawned by the first call, in the next free slot (after the app's tasks
    when started from runtime.boot); with_proxy=False refuses calls instead.
    With a manifest loaded the proxy is granted every slot with
    abi.CONSOLE_BADGE, so servers can tell host calls apart.
    stream_in / sink replace sys.stdin / the console output (tests).
    """
    global _poller, _read1, out, proxy, _prio, call_timeout_ms, _call, _n
    import select

    src = stream_in if stream_in is not None else sys.stdin
    _poller = select.poll()
    _poller.register(src, select.POLLIN)
    raw = getattr(src, "buffer", src)
    _read1 = getattr(raw, "readinto", None)
    if _read1 is None:  # a stream without readinto: read(1) allocates, still correct
        rd = raw.read

        def _read1(buf):
            b = rd(1)
            if b:
                buf[0] = b[0] if not isinstance(b, str) else ord(b)
                return 1
            return 0
    out = sink
    call_timeout_ms = timeout_ms
    _call = None
    _last[0] = _last[1] = _last[2] = _last[3] = None
    _n = -1
    proxy = _NONE
    _prio = prio if with_proxy else -1


def poll(ms=0):
    """Read pending console input; answer complete requests. Never blocks.

    Safe as tick_hook and (with the ms argument) as part of idle_hook. It
    runs on every tick and idle turn, so its frame stays within the 11
    words MicroPython keeps on the C stack (a bigger one is heap-allocated
    on every call); the reading is _read(), called only when bytes wait.
    """
    p = _poller
    if p is not None and tcb.cur == _NONE:
        for _ in p.ipoll(0):
            _read(p)
            return


def _read(p):
    global _n, _line
    line = _line
    one = _one
    budget = _LINE_MAX
    while budget:
        ready = False
        for _ in p.ipoll(0):
            ready = True
        if not ready:
            return
        if not _read1(one):
            return
        budget -= 1
        b = one[0]
        if b == _START:
            _n = 0
            if line is None:  # the first request: a board nobody asks keeps the 200 bytes
                line = _line = bytearray(_LINE_MAX)
        elif _n < 0:
            continue  # REPL input or noise: not ours
        elif b == 0x0A:
            n = _n
            _n = -1
            from . import conreq  # loaded on the first request, then a dict lookup

            conreq.handle(bytes(line[:n]))
        elif b == 0x0D:
            continue
        elif _n < _LINE_MAX:
            line[_n] = b
            _n += 1
        else:
            _n = -1  # overlong: not a request
