"""spi server: one SPI bus shared by several clients, each with its own
chip select, picked by the client's badge.

Started as `main(k, owns={'spi': ((bus, cs), ...)}, devices=None, baud=1000000)`:
  owns     the manifest's `owns` table; `owns['spi']` lists (bus, cs)
           pairs on one bus. Every listed CS pin is driven high at start.
  devices  badge -> CS pin of the device that badge may talk to,
           e.g. {"1": 13}. None: every client gets the first owned CS.
  baud     default clock; a client may change its own (CONFIG).

A transaction is one message: CS low, the inline write bytes, then the
lease phase (a writable lease is filled from MISO; a read-only lease is
sent on MOSI), then `rlen` bytes read back inline, CS high. Clients are
mutually excluded for free: the server handles one message at a time, and
a device's CS is never low between two messages.

Protocol (u16/u32 little endian; reply rc is OK or a negative abi.E_*):

  op 1 XFER    [rlen u8, 0, loff u16, ln u16, write bytes...]
                                    -> [rlen bytes read after the rest]
               ln = bytes of the lease to move, starting at loff;
               ln 0 with a lease = the rest of the lease; no lease: ln 0
  op 2 CONFIG  [baud u32, mode u8 (polarity << 1 | phase)] -> []
               this client's settings, applied to each of its transactions
  op 3 POLL    [cmd u8, mask u8, want u8, timeout_ms u16] -> [status u8]
               repeat the transaction [cmd] + read 1 byte (CS high and a
               1 ms sleep in between) until status & mask == want, e.g.
               a flash's "wait until not busy": [0x05, 0x01, 0x00, t]

Errors: E_BADARG malformed (too short, rlen over the message limit, ln
without a lease); E_DENIED the badge has no device on this bus; E_MEM the
lease is shorter than loff + ln; E_IO POLL timed out (the device stopped
answering or never gets ready); E_NOTSUP unknown op.
Idempotent: CONFIG, POLL. XFER is not in general (a program command);
the client library lets the caller say when it is (a read).

Restart: the bus is opened again and every CS driven high at start, so a
crash in the middle of a transaction leaves no device selected; per-client
settings start from the defaults (the client library sends CONFIG again).
"""

from micropython import const

import hal

_XFER = const(1)
_CONFIG = const(2)
_POLL = const(3)

_OK = const(0)
_E_DENIED = const(-5)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)
_E_MEM = const(-8)
_E_IO = const(-10)
_HDR = const(6)

# Per-device state (one device per owned chip select), for as long as the
# server runs, in one list of _W blocks of n slots (field f of device i at
# st[f * n + i]) instead of one list or bytearray per field: each small
# object costs 64 bytes on a 64-bit port. rate and mode are the settings
# of the client that talks to that device.
_CS = const(0)  # the chip select's hal Pin (st[i])
_RATE = const(1)  # baud
_MODE = const(2)  # polarity << 1 | phase
_W = const(3)

# main() is one coroutine frame for the task's whole life, 8 bytes a slot
# for each local and for the deepest expression's stack: its loops are
# `while`, not `for ... in range` (whose loop state would be two more
# slots), request fields are read from m where used rather than copied
# into more locals, one scratch local, v, serves every branch, and a reply
# slice is made before the reply call.


async def main(k, owns=None, devices=None, baud=1000000, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    h = hal.load()
    pairs = tuple((owns or {}).get("spi", ()))  # (bus, cs) per device
    n = len(pairs)
    spi = h.SPI(pairs[0][0] if n else 1, baud)  # re-initialised at every start
    st = [baud] * (_W * n)
    i = 0
    while i < n:
        st[i] = h.Pin(pairs[i][1], hal.OUT, None, 1)  # deselected
        st[_MODE * n + i] = 0
        i += 1
    # XFER's read-back and the lease phase's chunks go through this task's
    # reply half (max_msg bytes; the chunks are done before the read-back),
    # POLL's status byte through its first byte: a server never sends, so
    # nothing else writes there.
    rb = k.rbody
    one = rb[:1]
    cur = -1  # settings currently on the bus (device index)

    while True:
        m = await k.recv()
        c = m.call  # what reply() answers
        op = m.op
        b = m.body
        if op < _XFER or op > _POLL:
            await k.reply(c, _E_NOTSUP)
            continue
        i = 0 if n else -1  # the device this badge may talk to: st[i]
        if devices is not None:
            v = devices.get(m.badge)
            if v is None:
                v = devices.get(str(m.badge))
            i = n - 1
            while i >= 0 and pairs[i][1] != v:
                i -= 1
        if i < 0:
            await k.reply(c, _E_DENIED)
            continue
        if op == _XFER:  # [rlen, 0, loff u16, ln u16, write bytes...]
            if m.len < _HDR or b[0] > len(rb):
                await k.reply(c, _E_BADARG)
                continue
            off = b[2] | b[3] << 8
            end = b[4] | b[5] << 8  # ln, then where the lease phase ends
            if m.lease is None:
                if end:
                    await k.reply(c, _E_BADARG)
                    continue
            else:
                end = off + end if end else m.lease.len
                if end > m.lease.len:
                    await k.reply(c, _E_MEM)
                    continue
            if cur != i:  # this client's settings onto the bus
                v = st[_MODE * n + i]
                spi.init(st[_RATE * n + i], v >> 1, v & 1)
                cur = i
            st[i].value(0)
            try:
                if m.len > _HDR:
                    spi.write(b[_HDR:m.len])
                while off < end:  # in chunks of up to len(rb) bytes
                    v = min(end - off, len(rb))
                    if m.lease.writable:
                        spi.readinto(rb[:v])
                        m.lease.write(off, rb, v)
                    else:
                        m.lease.read(off, v, rb)
                        spi.write(rb[:v])
                    off += v
                v = b[0]  # rlen (the received body stays as it came until the next recv)
                if v:
                    v = rb[:v]
                    spi.readinto(v)
                else:
                    v = None
            finally:
                st[i].value(1)
            await k.reply(c, _OK, v)
        elif op == _CONFIG:
            if m.len < 5 or b[4] > 3:
                await k.reply(c, _E_BADARG)
                continue
            v = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
            if not v:
                await k.reply(c, _E_BADARG)
                continue
            st[_RATE * n + i] = v
            st[_MODE * n + i] = b[4]
            cur = -1
            await k.reply(c, _OK)
        else:  # _POLL: [cmd, mask, want, timeout_ms u16]; the body stays ours
            if m.len < 5:
                await k.reply(c, _E_BADARG)
                continue
            end = h.ticks_add(h.ticks_ms(), b[3] | b[4] << 8)  # the deadline
            while True:
                if cur != i:
                    v = st[_MODE * n + i]
                    spi.init(st[_RATE * n + i], v >> 1, v & 1)
                    cur = i
                st[i].value(0)
                one[0] = b[0]
                spi.write(one)
                spi.readinto(one)
                st[i].value(1)
                if one[0] & b[1] == b[2]:
                    v = _OK
                    break
                if h.ticks_diff(h.ticks_ms(), end) >= 0:
                    v = _E_IO
                    break
                await k.sleep_ms(1)  # other tasks run; this call stays ours
            await k.reply(c, v, one)
