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
_CHUNK = const(64)
_HDR = const(6)


async def main(k, owns=None, devices=None, baud=1000000, **_):
    h = hal.load()
    pairs = tuple((owns or {}).get("spi", ()))
    bus = pairs[0][0] if pairs else 1
    cs_pins = tuple(p[1] for p in pairs)
    n = len(cs_pins)
    spi = h.SPI(bus, baud)  # re-initialised at every start
    cs = [h.Pin(cs_pins[i], hal.OUT, None, 1) for i in range(n)]
    rate = [baud] * n  # per device: settings of the client that owns it
    mode = bytearray(n)
    chunk = bytearray(_CHUNK)
    cv = memoryview(chunk)
    rbuf = bytearray(len(k.m.body))
    rv = memoryview(rbuf)
    one = bytearray(1)
    cur = -1  # settings currently on the bus (device index)

    while True:
        m = await k.recv()
        c = m.sender
        op = m.op
        b = m.body
        ln = m.len
        if op < _XFER or op > _POLL:
            await k.reply(c, _E_NOTSUP)
            continue
        i = 0 if n else -1  # the device this badge may talk to
        if devices is not None:
            d = devices.get(m.badge)
            if d is None:
                d = devices.get(str(m.badge))
            i = -1
            for j in range(n):
                if cs_pins[j] == d:
                    i = j
                    break
        if i < 0:
            await k.reply(c, _E_DENIED)
            continue
        if op == _XFER:
            lease = m.lease
            if ln < _HDR or b[0] > len(rbuf):
                await k.reply(c, _E_BADARG)
                continue
            rlen = b[0]
            loff = b[2] | b[3] << 8
            cnt = b[4] | b[5] << 8
            if lease is None:
                if cnt:
                    await k.reply(c, _E_BADARG)
                    continue
            else:
                if not cnt:
                    cnt = lease.len - loff
                if loff + cnt > lease.len:
                    await k.reply(c, _E_MEM)
                    continue
            if cur != i:  # this client's settings onto the bus
                spi.init(rate[i], mode[i] >> 1, mode[i] & 1)
                cur = i
            p = cs[i]
            p.value(0)
            try:
                if ln > _HDR:
                    spi.write(b[_HDR:ln])
                done = 0
                while done < cnt:
                    s = cnt - done if cnt - done < _CHUNK else _CHUNK
                    if lease.writable:
                        spi.readinto(cv[:s])
                        lease.write(loff + done, cv[:s])
                    else:
                        lease.read(loff + done, s, cv)
                        spi.write(cv[:s])
                    done += s
                if rlen:
                    spi.readinto(rv[:rlen])
            finally:
                p.value(1)
            await k.reply(c, _OK, rv[:rlen] if rlen else None)
        elif op == _CONFIG:
            if ln < 5 or b[4] > 3:
                await k.reply(c, _E_BADARG)
                continue
            r = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
            if not r:
                await k.reply(c, _E_BADARG)
                continue
            rate[i] = r
            mode[i] = b[4]
            cur = -1
            await k.reply(c, _OK)
        else:  # _POLL
            if ln < 5:
                await k.reply(c, _E_BADARG)
                continue
            cmd = b[0]
            msk = b[1]
            want = b[2]
            t = b[3] | b[4] << 8
            t0 = h.ticks_ms()
            p = cs[i]
            while True:
                if cur != i:
                    spi.init(rate[i], mode[i] >> 1, mode[i] & 1)
                    cur = i
                p.value(0)
                one[0] = cmd
                spi.write(one)
                spi.readinto(one)
                p.value(1)
                if one[0] & msk == want:
                    rc = _OK
                    break
                if h.ticks_diff(h.ticks_ms(), t0) >= t:
                    rc = _E_IO
                    break
                await k.sleep_ms(1)  # other tasks run; this call stays ours
            await k.reply(c, rc, one)
