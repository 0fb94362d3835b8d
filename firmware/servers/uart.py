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
_CHUNK = const(64)  # bytes moved per step between a lease and the UART


async def main(k, owns=None, rights=None, baud=115200, rxbuf=256, **_):
    h = hal.load()
    ids = tuple((owns or {}).get("uart", ()))
    n = len(ids)
    us = [h.UART(ids[i], baud, rxbuf=rxbuf) for i in range(n)]  # re-initialised
    for i in range(n):
        us[i].notify(k.slot, 1 << i)
    sub_id = [-1] * n
    sub_bits = [0] * n
    chunk = bytearray(_CHUNK)
    cv = memoryview(chunk)
    big = bytearray(len(k.m.body))  # an inline _READ reply, up to the message limit
    bv = memoryview(big)
    out = bytearray(4)
    ov = memoryview(out)
    mask = (1 << n) - 1
    while True:
        m = await k.recv(None, mask)
        if m.sender < 0:  # RX data waiting: tell the subscribers
            for i in range(n):
                if m.bits >> i & 1 and sub_id[i] >= 0:
                    if await k.notify(sub_id[i], sub_bits[i]) != _OK:
                        sub_id[i] = -1
            continue
        c = m.sender
        op = m.op
        b = m.body
        ln = m.len
        if op < _WRITE or op > _STATUS:
            await k.reply(c, _E_NOTSUP)
            continue
        i = 0 if n else -1  # the UART this badge may use
        if rights is not None:
            w = rights.get(m.badge)
            if w is None:
                w = rights.get(str(m.badge))
            i = -1
            for j in range(n):
                if ids[j] == w:
                    i = j
                    break
        if i < 0:
            await k.reply(c, _E_DENIED)
            continue
        u = us[i]
        lease = m.lease
        if op == _WRITE or op == _READ:
            if lease is not None:
                if ln >= 4:
                    off = b[0] | b[1] << 8
                    cnt = b[2] | b[3] << 8
                elif ln == 0:
                    off = 0
                    cnt = lease.len
                else:
                    await k.reply(c, _E_BADARG)
                    continue
                if off + cnt > lease.len or (op == _READ and not lease.writable):
                    await k.reply(c, _E_MEM)
                    continue
                done = 0
                if op == _WRITE:
                    while done < cnt:
                        s = cnt - done if cnt - done < _CHUNK else _CHUNK
                        lease.read(off + done, s, cv)
                        u.write(cv[:s])
                        done += s
                else:
                    while done < cnt:
                        s = cnt - done if cnt - done < _CHUNK else _CHUNK
                        got = u.readinto(cv, s)
                        if got:
                            lease.write(off + done, cv[:got])
                            done += got
                        if got < s:
                            break
                out[0] = done & 0xFF
                out[1] = done >> 8
                await k.reply(c, _OK, ov[:2])
            elif op == _WRITE:
                w = u.write(b[:ln])
                out[0] = w & 0xFF
                out[1] = w >> 8
                await k.reply(c, _OK, ov[:2])
            else:
                if ln < 2:
                    await k.reply(c, _E_BADARG)
                    continue
                want = b[0] | b[1] << 8
                if want > len(big):
                    want = len(big)
                got = u.readinto(bv, want)
                await k.reply(c, _OK, bv[:got])
        elif op == _SUBSCRIBE:
            if ln < 1 or (b[0] > 27 and b[0] != 255):
                await k.reply(c, _E_BADARG)
                continue
            if b[0] == 255:
                if sub_id[i] == c:
                    sub_id[i] = -1
                await k.reply(c, _OK)
                continue
            if sub_id[i] >= 0 and sub_id[i] != c and await k.notify(sub_id[i], 0) == _OK:
                await k.reply(c, _E_BUSY)
                continue
            sub_id[i] = c
            sub_bits[i] = 1 << b[0]
            if u.any():
                await k.notify(c, sub_bits[i])
            await k.reply(c, _OK)
        elif op == _CONFIG:
            if ln < 7:
                await k.reply(c, _E_BADARG)
                continue
            rate = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
            bits = b[4]
            par = b[5]
            stop = b[6]
            if not rate or bits < 5 or bits > 8 or par > 2 or stop < 1 or stop > 2:
                await k.reply(c, _E_BADARG)
                continue
            u.init(rate, bits, None if par == 0 else par - 1, stop)
            await k.reply(c, _OK)
        else:  # _STATUS
            a = u.any()
            o = getattr(u, "overruns", 0) & 0xFFFF
            out[0] = a & 0xFF
            out[1] = a >> 8
            out[2] = o & 0xFF
            out[3] = o >> 8
            await k.reply(c, _OK, ov)
