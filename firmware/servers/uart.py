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
from servers import device_for

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

# One record per owned UART, a list indexed by these names, for as long as
# the server runs.
_UART = const(0)  # the hal UART
_SUBSCRIBER = const(1)  # the subscriber's task id, -1 for none
_BITS = const(2)  # the notification bits it asked for (1 << bit)


async def main(k, owns=None, rights=None, baud=115200, rxbuf=256, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    h = hal.load()
    ids = tuple((owns or {}).get("uart", ()))  # UART i's "data waiting" is bit 1 << i
    uarts = []  # UART i's record
    for i in range(len(ids)):  # opened again: a restart starts with an empty ring
        u = [h.UART(ids[i], baud, rxbuf=rxbuf), -1, 0]
        u[_UART].notify(k.slot, 1 << i)
        uarts.append(u)
    # Every reply body (an inline READ's bytes, counts, STATUS) and the
    # chunks moved between a lease and the UART go through this task's reply
    # half, max_msg bytes: a server never sends, so nothing else writes there.
    rb = k.rbody
    while True:
        m = await k.recv(None, (1 << len(uarts)) - 1)
        if m.sender < 0:  # interrupt bits, not a request: tell the subscribers
            for i in range(len(uarts)):
                u = uarts[i]
                if m.bits >> i & 1 and u[_SUBSCRIBER] >= 0 and \
                        await k.notify(u[_SUBSCRIBER], u[_BITS]) != _OK:
                    u[_SUBSCRIBER] = -1  # it died: drop it
            continue

        # Every request: the op, then the UART the caller's badge talks to.
        op = m.op
        body = m.body
        if op < _WRITE or op > _STATUS:
            await k.reply(m.call, _E_NOTSUP)
            continue
        u = device_for(uarts, ids, rights, m.badge)
        if u is None:
            await k.reply(m.call, _E_DENIED)
            continue

        if op == _WRITE:  # inline bytes, or a readable lease's span -> [n u16]
            if m.lease is None:
                count = u[_UART].write(body[:m.len])
            else:
                count = _through_lease(m, u[_UART], rb)
            if count < 0:
                await k.reply(m.call, count)
            else:
                await k.reply(m.call, _OK, count.to_bytes(2, "little"))

        elif op == _READ:  # inline [max u16] -> the bytes; or a writable lease's span -> [n u16]
            if m.lease is not None:
                count = _through_lease(m, u[_UART], rb)
                if count < 0:
                    await k.reply(m.call, count)
                else:
                    await k.reply(m.call, _OK, count.to_bytes(2, "little"))
            elif m.len < 2:
                await k.reply(m.call, _E_BADARG)
            else:  # reads never block: what is waiting, up to max and the message limit
                count = u[_UART].readinto(rb, min(body[0] | body[1] << 8, len(rb)))
                await k.reply(m.call, _OK, rb[:count])

        elif op == _SUBSCRIBE:  # [bit], 255 unsubscribes -> []
            if m.len < 1 or (body[0] > 27 and body[0] != 255):
                await k.reply(m.call, _E_BADARG)
            elif body[0] == 255:
                if u[_SUBSCRIBER] == m.sender:
                    u[_SUBSCRIBER] = -1
                await k.reply(m.call, _OK)
            elif u[_SUBSCRIBER] >= 0 and u[_SUBSCRIBER] != m.sender and \
                    await k.notify(u[_SUBSCRIBER], 0) == _OK:  # the other client is alive
                await k.reply(m.call, _E_BUSY)
            else:
                u[_SUBSCRIBER] = m.sender
                u[_BITS] = 1 << body[0]
                if u[_UART].any():  # data already waiting: say so now
                    await k.notify(m.sender, u[_BITS])
                await k.reply(m.call, _OK)

        elif op == _CONFIG:  # [baud u32, bits, parity, stop] -> []
            if m.len < 7:
                await k.reply(m.call, _E_BADARG)
                continue
            baud = body[0] | body[1] << 8 | body[2] << 16 | body[3] << 24
            bits = body[4]
            parity = body[5]
            stop = body[6]
            if not baud or bits < 5 or bits > 8 or parity > 2 or stop < 1 or stop > 2:
                await k.reply(m.call, _E_BADARG)
                continue
            # the HAL's parity: None, 0 even, 1 odd
            u[_UART].init(baud, bits, parity - 1 if parity else None, stop)
            await k.reply(m.call, _OK)

        else:  # _STATUS: [] -> [waiting u16, overruns u16]
            waiting = u[_UART].any()
            overruns = getattr(u[_UART], "overruns", 0) & 0xFFFF  # a HAL may not count them
            await k.reply(m.call, _OK, (waiting | overruns << 16).to_bytes(4, "little"))


def _through_lease(m, uart, buf):
    """WRITE or READ through m's lease, in chunks of buf's size: the span is
    [off u16, n u16] of the lease, or [] for all of it. Returns the count
    moved, or E_BADARG (a malformed span) or E_MEM (the span does not fit
    the lease, or READ into a read-only one), checked before touching it."""
    b = m.body
    ls = m.lease
    if m.len >= 4:
        off = b[0] | b[1] << 8
        end = off + (b[2] | b[3] << 8)
    elif m.len == 0:
        off = 0
        end = ls.len
    else:
        return _E_BADARG
    if end > ls.len or (m.op == _READ and not ls.writable):
        return _E_MEM
    start = off
    while off < end:
        n = min(end - off, len(buf))
        if m.op == _WRITE:
            ls.read(off, n, buf)
            uart.write(buf[:n])
        else:
            n = uart.readinto(buf, n)
            if not n:
                break  # nothing more waiting: reads never block
            ls.write(off, buf, n)
        off += n
    return off - start
