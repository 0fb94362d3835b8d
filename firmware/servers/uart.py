"""uart server: owns UARTs; clients write, read (inline or through a lease),
subscribe to "data arrived", and set baud rate and format.

Started as `main(k, owns={'uart': (1,)}, rights=None, baud=115200, rxbuf=256)`:
  owns    the manifest's `owns` table; `owns['uart']` lists the UART ids.
  rights  badge -> UART id that badge talks to, e.g. {"1": 1, "2": 2}.
          None: every client gets the first owned UART.
  baud    initial baud rate (8N1); rxbuf: receive ring size in bytes.

Receive is ring-buffered by the HAL UART (`rxbuf` bytes; bytes that do not
fit are dropped and counted as overruns). When data is waiting the HAL
posts this server's bit; the server forwards `notify(subscriber, 1 << bit)`.
The HAL re-posts while data waits (level-triggered), so a subscriber that
does not read is notified again: it cannot miss data.

Protocol (u16/u32 little endian; a reply rc is OK or a negative abi.E_*):

  op 1 WRITE      inline: [bytes...]            -> [n u16] bytes queued
                  lease (readable): [off u16, n u16] or [] (whole lease)
  op 2 READ       inline: [max u16]             -> [bytes...] up to
                  min(max, message limit) bytes; may be empty
                  lease (writable): [off u16, max u16] or [] (whole lease)
                                                -> [n u16] bytes read into it
  op 3 SUBSCRIBE  [bit]  0..27, or 255 to unsubscribe -> []
  op 4 CONFIG     [baud u32, bits u8, parity u8, stop u8] -> []
                  parity 0 none / 1 even / 2 odd; bits 5..8; stop 1..2
  op 5 STATUS     []                            -> [waiting u16, overruns u16]

Errors: E_BADARG short body or a value out of range; E_DENIED the badge has
no UART here; E_MEM the lease is too short for off+n, or READ was given a
read-only lease; E_BUSY SUBSCRIBE while another live client is subscribed;
E_NOTSUP unknown op.
Idempotent: SUBSCRIBE, CONFIG, STATUS. Not idempotent: WRITE (bytes could
go out twice), READ (consumes what it returns).

Restart: the UARTs are opened again at start (baud from args, 8N1) — the
HAL's receive ring starts empty — and subscriptions start empty (the
client library subscribes again).
"""

from micropython import const

import hal

_WRITE = const(1)
_READ = const(2)
_SUBSCRIBE = const(3)
_CONFIG = const(4)
_STATUS = const(5)

_OK = const(0)
_E_DENIED = const(-5)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)
_E_MEM = const(-8)
_E_BUSY = const(-9)

# Per-UART state, for as long as the server runs, in one list of _W blocks
# of n slots (field f of UART i at st[f * n + i]) instead of one list per
# field: each small object costs 64 bytes on a 64-bit port.
_UART = const(0)  # the hal UART (st[i])
_SUB = const(1)  # the subscriber's task id, -1 for none
_BITS = const(2)  # the notification bits it asked for (1 << bit)
_W = const(3)

# main() is one coroutine frame for the task's whole life, 8 bytes a slot
# for each local and for the deepest expression's stack: its loops are
# `while`, not `for ... in range` (whose loop state would be two more
# slots), request fields are read from m where used rather than copied
# into more locals, one scratch local, v, serves every branch, and a reply
# slice is made before the reply call.


async def main(k, owns=None, rights=None, baud=115200, rxbuf=256, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    ids = tuple((owns or {}).get("uart", ()))
    n = len(ids)
    st = [0] * (_W * n)
    i = 0
    while i < n:
        st[i] = hal.load().UART(ids[i], baud, rxbuf=rxbuf)  # re-initialised
        st[i].notify(k.slot, 1 << i)
        st[_SUB * n + i] = -1
        i += 1
    # Every reply body (an inline READ's bytes, counts, STATUS) and the
    # chunks moved between a lease and the UART go through this task's reply
    # half, max_msg bytes: a server never sends, so nothing else writes there.
    rb = k.rbody
    while True:
        m = await k.recv(None, (1 << n) - 1)
        if m.sender < 0:  # RX data waiting: tell the subscribers
            i = 0
            while i < n:
                v = st[_SUB * n + i]
                if m.bits >> i & 1 and v >= 0 and await k.notify(v, st[_BITS * n + i]) != _OK:
                    st[_SUB * n + i] = -1  # it died: drop it
                i += 1
            continue
        c = m.call  # what reply() answers
        op = m.op
        b = m.body
        if op < _WRITE or op > _STATUS:
            await k.reply(c, _E_NOTSUP)
            continue
        i = 0 if n else -1  # the UART this badge may use: st[i]
        if rights is not None:
            v = rights.get(m.badge)
            if v is None:
                v = rights.get(str(m.badge))
            i = n - 1
            while i >= 0 and ids[i] != v:
                i -= 1
        if i < 0:
            await k.reply(c, _E_DENIED)
            continue
        if op == _WRITE or op == _READ:  # each sets v, the count it replies
            if m.lease is not None:
                if m.len >= 4:
                    off = b[0] | b[1] << 8
                    end = off + (b[2] | b[3] << 8)
                elif m.len == 0:
                    off = 0
                    end = m.lease.len
                else:
                    await k.reply(c, _E_BADARG)
                    continue
                if end > m.lease.len or (op == _READ and not m.lease.writable):
                    await k.reply(c, _E_MEM)
                    continue
                v = off  # where the transfer starts; off moves on to end
                while off < end:  # in chunks of up to len(rb) bytes
                    s = min(end - off, len(rb))
                    if op == _WRITE:
                        m.lease.read(off, s, rb)
                        st[i].write(rb[:s])
                    else:
                        s = st[i].readinto(rb, s)
                        if not s:
                            break  # nothing more waiting: reads never block
                        m.lease.write(off, rb, s)
                    off += s
                v = off - v
            elif op == _WRITE:
                v = st[i].write(b[:m.len])
            else:  # inline READ: the bytes are the reply
                if m.len < 2:
                    await k.reply(c, _E_BADARG)
                    continue
                v = min(b[0] | b[1] << 8, len(rb))
                v = rb[:st[i].readinto(rb, v)]
                await k.reply(c, _OK, v)
                continue
            rb[0] = v & 0xFF
            rb[1] = v >> 8
            v = rb[:2]
            await k.reply(c, _OK, v)
        elif op == _SUBSCRIBE:
            if m.len < 1 or (b[0] > 27 and b[0] != 255):
                await k.reply(c, _E_BADARG)
                continue
            if b[0] == 255:
                if st[_SUB * n + i] == m.sender:
                    st[_SUB * n + i] = -1
                await k.reply(c, _OK)
                continue
            v = st[_SUB * n + i]
            if v >= 0 and v != m.sender and await k.notify(v, 0) == _OK:
                await k.reply(c, _E_BUSY)
                continue
            st[_SUB * n + i] = m.sender
            st[_BITS * n + i] = v = 1 << b[0]
            if st[i].any():
                await k.notify(m.sender, v)
            await k.reply(c, _OK)
        elif op == _CONFIG:  # [baud u32, bits, parity, stop]
            if m.len < 7:
                await k.reply(c, _E_BADARG)
                continue
            v = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
            if not v or b[4] < 5 or b[4] > 8 or b[5] > 2 or b[6] < 1 or b[6] > 2:
                await k.reply(c, _E_BADARG)
                continue
            s = b[6]  # stop bits: b[6] as the call's last argument would need one more stack slot
            st[i].init(v, b[4], b[5] - 1 if b[5] else None, s)  # the HAL's parity: None, 0 even, 1 odd
            await k.reply(c, _OK)
        else:  # _STATUS
            v = st[i].any()
            rb[0] = v & 0xFF
            rb[1] = v >> 8
            v = getattr(st[i], "overruns", 0) & 0xFFFF
            rb[2] = v & 0xFF
            rb[3] = v >> 8
            v = rb[:4]
            await k.reply(c, _OK, v)
