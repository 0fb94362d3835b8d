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
from clients.flash import Flash

REC = 16

# Heap budget (app.toml: 2048 bytes per slice, counted as bytes allocated,
# freed or not): a page of 16 records is built and checked in one slice, so
# that work calls no function per record. A function whose frame is larger
# than MicroPython keeps on the C stack gets it from the heap on every call,
# and 16 calls of a record builder (plus its region writes) came to ~6 KB.
# The loops are in main (a coroutine: its frame was allocated once, when it
# was created), over one page buffer, with one region write and read a page;
# the page is sent to the flash in the next slice.


async def main(k, records=32, base=0, period_ms=20):
    f = Flash(k)
    page = k.region("page")
    buf = bytearray(256)  # one page of records, built here, copied to the region
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
        t = time.ticks_ms()
        for i in range(per_page):
            o = i * REC
            if i >= n:
                for j in range(REC):
                    buf[o + j] = 0xFF  # erased flash
                continue
            q = seq + i
            buf[o] = 0x4B  # "K"
            buf[o + 1] = 0x4C  # "L"
            buf[o + 2] = q & 0xFF
            buf[o + 3] = q >> 8
            for j in range(4):
                buf[o + 4 + j] = t >> (8 * j) & 0xFF
            for j in range(6):
                buf[o + 8 + j] = (q * 7 + j) & 0xFF
            c = 0
            for j in range(14):
                c += buf[o + j]
            buf[o + 14] = c & 0xFF
            buf[o + 15] = c >> 8 & 0xFF
        page.write(0, buf)
        addr = base + (seq // per_page) * 256
        # The calls below (a lease, program's coroutines down to the send)
        # allocate ~1.5 KB between them: in a slice of their own.
        await k.yield_()
        try:
            await f.program(addr, lease=page.lease(0, n * REC, False), n=n * REC)
            written += n
            page.fill(0)
            await f.read(addr, n * REC, lease=page.lease(0, n * REC, True))
            page.read(0, n * REC, buf)
            for i in range(n):
                o = i * REC
                q = seq + i
                c = 0
                for j in range(14):
                    c += buf[o + j]
                if (buf[o] == 0x4B and buf[o + 1] == 0x4C and (buf[o + 2] | buf[o + 3] << 8) == q
                        and (c & 0xFFFF) == (buf[o + 14] | buf[o + 15] << 8)):
                    verified += 1
                else:
                    errors += 1
        except ServerError as e:
            errors += n
            await k.log("logger: spi error %d at page %x" % (e.args[0], addr))
        seq += n
        await k.sleep_ms(period_ms)
    await k.log("logger: %d records written, %d verified, %d errors" % (written, verified, errors))
