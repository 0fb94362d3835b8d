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
from servers import device_for

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

# One record per device (per owned chip select), a list indexed by these
# names, for as long as the server runs. Rate and mode are the settings of
# the client that talks to that device.
_CS = const(0)  # the chip select's hal Pin
_RATE = const(1)  # baud
_MODE = const(2)  # polarity << 1 | phase


async def main(k, owns=None, devices=None, baud=1000000, **_):
    del _  # unused args: do not keep their dict in this frame for the task's life
    h = hal.load()
    pairs = tuple((owns or {}).get("spi", ()))  # (bus, cs) per device, all on one bus
    spi = h.SPI(pairs[0][0] if pairs else 1, baud)  # opened again at every start
    chip_selects = []  # device i's chip select pin
    records = []  # device i's record
    for _bus, cs in pairs:
        chip_selects.append(cs)
        records.append([h.Pin(cs, hal.OUT, None, 1), baud, 0])  # deselected
    # XFER's read-back and the lease phase's chunks go through this task's
    # reply half (max_msg bytes; the chunks are done before the read-back),
    # POLL's status byte through its first byte: a server never sends, so
    # nothing else writes there.
    rb = k.rbody
    status = rb[:1]
    on_bus = None  # the device whose settings are on the bus

    while True:
        m = await k.recv()

        # Every request: the op, then the device the caller's badge talks to.
        op = m.op
        body = m.body
        if op < _XFER or op > _POLL:
            await k.reply(m.call, _E_NOTSUP)
            continue
        dev = device_for(records, chip_selects, devices, m.badge)
        if dev is None:
            await k.reply(m.call, _E_DENIED)
            continue

        if op == _XFER:  # [rlen, 0, loff u16, ln u16, write bytes...] -> [rlen bytes]
            if m.len < _HDR or body[0] > len(rb):
                await k.reply(m.call, _E_BADARG)
                continue
            off = body[2] | body[3] << 8  # where the lease phase starts
            end = body[4] | body[5] << 8  # ln, then where the lease phase ends
            if m.lease is None:
                if end:
                    await k.reply(m.call, _E_BADARG)
                    continue
            else:
                end = off + end if end else m.lease.len
                if end > m.lease.len:
                    await k.reply(m.call, _E_MEM)
                    continue
            if on_bus is not dev:  # this client's settings onto the bus
                spi.init(dev[_RATE], dev[_MODE] >> 1, dev[_MODE] & 1)
                on_bus = dev
            dev[_CS].value(0)
            try:
                if m.len > _HDR:
                    spi.write(body[_HDR:m.len])
                while off < end:  # the lease phase, in chunks of up to len(rb) bytes
                    n = min(end - off, len(rb))
                    if m.lease.writable:
                        spi.readinto(rb[:n])
                        m.lease.write(off, rb, n)
                    else:
                        m.lease.read(off, n, rb)
                        spi.write(rb[:n])
                    off += n
                readback = None
                if body[0]:  # rlen (the received body stays as it came until the next recv)
                    readback = rb[:body[0]]
                    spi.readinto(readback)
            finally:
                dev[_CS].value(1)  # also when the bus raised: never left selected
            await k.reply(m.call, _OK, readback)

        elif op == _CONFIG:  # [baud u32, mode u8] -> []: this client's settings
            if m.len < 5 or body[4] > 3:
                await k.reply(m.call, _E_BADARG)
                continue
            rate = body[0] | body[1] << 8 | body[2] << 16 | body[3] << 24
            if not rate:
                await k.reply(m.call, _E_BADARG)
                continue
            dev[_RATE] = rate
            dev[_MODE] = body[4]
            on_bus = None  # applied at this device's next transaction
            await k.reply(m.call, _OK)

        else:  # _POLL: [cmd, mask, want, timeout_ms u16] -> [status]; the body stays ours
            if m.len < 5:
                await k.reply(m.call, _E_BADARG)
                continue
            deadline = h.ticks_add(h.ticks_ms(), body[3] | body[4] << 8)
            while True:
                if on_bus is not dev:
                    spi.init(dev[_RATE], dev[_MODE] >> 1, dev[_MODE] & 1)
                    on_bus = dev
                dev[_CS].value(0)
                status[0] = body[0]
                spi.write(status)
                spi.readinto(status)
                dev[_CS].value(1)
                if status[0] & body[1] == body[2]:
                    rc = _OK
                    break
                if h.ticks_diff(h.ticks_ms(), deadline) >= 0:
                    rc = _E_IO  # it stopped answering, or never gets ready
                    break
                await k.sleep_ms(1)  # other tasks run; this call stays ours
            await k.reply(m.call, rc, status)
