"""flash_logger: write records to SPI NOR flash, read them back, verify.

Each record is 16 bytes: magic "KL", u16 sequence, u32 ticks_ms, 6 bytes
of payload, u16 checksum (sum of the first 14 bytes). Sixteen records fill
one 256-byte page, which is built in the app's `page` region and
programmed through a read-only lease; verification reads each page back
through a writable lease of the same region. The first sector is erased
at start. Logs "logger: N records written, N verified, E errors".
"""

import time

from clients.base import ServerError
from clients.spi import Flash

REC = 16


def _record(buf, off, seq):
    t = time.ticks_ms()
    rec = bytearray(REC)
    rec[0] = 0x4B  # "K"
    rec[1] = 0x4C  # "L"
    rec[2] = seq & 0xFF
    rec[3] = seq >> 8
    for i in range(4):
        rec[4 + i] = t >> (8 * i) & 0xFF
    for i in range(6):
        rec[8 + i] = (seq * 7 + i) & 0xFF
    s = sum(rec[:14]) & 0xFFFF
    rec[14] = s & 0xFF
    rec[15] = s >> 8
    buf.write(off, rec)


def _ok(rec, seq):
    return (rec[0] == 0x4B and rec[1] == 0x4C and (rec[2] | rec[3] << 8) == seq and
            (sum(rec[:14]) & 0xFFFF) == (rec[14] | rec[15] << 8))


async def main(k, records=32, base=0, period_ms=20):
    f = Flash(k)
    page = k.region("page")
    errors = 0
    written = 0
    verified = 0
    try:
        jid = await f.check()
        await k.log("logger: flash %06x" % jid)
        await f.erase(base)
    except ServerError as e:
        await k.log("logger: no flash (%d)" % e.args[0])
        return
    per_page = 256 // REC
    seq = 0
    while seq < records:
        n = records - seq if records - seq < per_page else per_page
        page.fill(0xFF)
        for i in range(n):
            _record(page, i * REC, seq + i)
        addr = base + (seq // per_page) * 256
        try:
            await f.program(addr, lease=page.lease(0, n * REC, False), n=n * REC)
            written += n
            page.fill(0)
            await f.read(addr, n * REC, lease=page.lease(0, n * REC, True))
            rec = bytearray(REC)
            for i in range(n):
                page.read(i * REC, REC, rec)
                if _ok(rec, seq + i):
                    verified += 1
                else:
                    errors += 1
        except ServerError as e:
            errors += n
            await k.log("logger: spi error %d at page %x" % (e.args[0], addr))
        seq += n
        await k.sleep_ms(period_ms)
    await k.log("logger: %d records written, %d verified, %d errors" % (written, verified, errors))
