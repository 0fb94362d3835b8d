# Declared hot path (docs/performance.md, "Rules"): the whole module (the
# message copy and the hand-over to a server). MicroPython speed and RAM
# tricks are allowed in it, each under one of those rules.
"""IPC: synchronous send / recv / reply with copied, versioned messages.

The three syscalls are in keep/task.py with every other; this module
holds what they share: the message copy and the hand-over to a server.

send blocks the client until the server replies, so a buffer it lent
cannot change under the server. The message is copied at send: straight
into the server's receive buffer (header + body) when the server waits in
recv, else into the sender's own reply buffer, from where recv copies it
later, so what the server gets is what the buffer held at send. A reply
is copied into the client's reply buffer. Oversize is an error, never a
truncation. Every such write is one call of the viper copy() (header and
body), and the buffers are reached through tcb.mbuf, not three attribute
lookups: a queued call (two tasks of one priority take turns, so a
client's send usually finds the server not yet back in recv) pays two
copies, about 2 % of a round trip (docs/performance.md).

Invariants (with tcb's):
- The wait-for graph (IN_SEND / IN_REPLY edges to peer) is acyclic: send
  refuses, with E_DEADLOCK, any edge that would close a cycle.
- A server's effective priority is the most important of its own and of
  every client queued at it or waiting for its reply, transitively along
  chains of servers (priority inheritance); it drops back when it replies.
- Every call has an id (m.call = ~tcb.call[c]), and a reply names the
  call it answers: it reaches the client only while that exact call waits
  for this server. A reply to a call that is over (the client
  timed out, faulted, restarted or has made a newer call) is dropped and
  traced, never delivered to a later call and never the server's fault.
"""

import micropython
from micropython import const

from .tcb import alease, call, gen, mbuf
from .trace import write as tw

_HDR = const(4)  # abi.MSG_HDR
_VER = const(1)  # abi.MSG_VERSION
_TR_RECV = const(3)  # abi.TR_RECV


@micropython.viper
def copy(dst, off: int, op: int, src, start: int, n: int):
    """Write a message at dst[off]: the header (version, op (a reply's rc),
    u16 length n) and n body bytes from src[start:], front to back (so a
    copy to a lower offset of the same buffer is safe). One viper call
    instead of four subscript stores and a slice, which native code would
    build on the heap."""
    d = ptr8(dst)
    d[off] = _VER
    d[off + 1] = op
    d[off + 2] = n & 0xFF
    d[off + 3] = n >> 8
    if n > 0:
        s = ptr8(src)
        i = 0
        off += _HDR
        while i < n:
            d[off + i] = s[start + i]
            i += 1


@micropython.native
def deliver(m, s, c, op, src, start, n, lease, badge, traced=True, mbuf=mbuf, gen=gen,
            call=call, copy=copy, tw=tw):
    """Copy client c's message (n bytes of src at start) into the receive
    buffer of server s (whose Msg is m), and say who sent it and which
    call it is. (Default-bound tables: see keep/task.py, "Hot path".)"""
    b = mbuf[s]
    copy(b, 0, op, src, start, n)
    m.sender = gen[c] << 8 | c
    m.call = ~call[c]
    m.badge = badge
    m.op = op
    m.len = n
    if m.bits:  # (task.Msg: both are class defaults until a wait sets them)
        m.bits = 0
    if m.rc:
        m.rc = 0
    if lease is not None or m.lease is not None:
        m.lease = lease
    if lease is not None:
        alease[c] = lease
        lease.grant(s)
    if traced:  # else the SEND record said it (TR_DELIVERED)
        tw(_TR_RECV, s, c | op << 8, n)
