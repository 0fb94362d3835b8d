"""adder: adds to the counter every `every_ms`, logs what it sees."""

from counter_client import Counter
from clients.base import ServerError


async def main(k, every_ms=500, **_):
    c = Counter(k)
    io = k.region("io")
    lease = io.lease(0, 16, True)          # lent to the server for one call at a time
    recent = bytearray(16)
    n = 0
    while True:
        n += 1
        try:
            total = await c.add(n % 10)
        except ServerError as e:           # e.args[0] is the rc, e.g. -1 (E_DEAD)
            await k.log("adder: add failed rc=%d" % e.args[0])
            await k.sleep_ms(every_ms)
            continue
        if n % 5 == 0:
            io.lease(0, 16, True, reuse=lease)   # re-arm: a lease ends at the reply
            got = await c.dump(lease)
            io.read(0, got, recent)
            await k.log("adder: total %d, last %d adds %s" % (total, got, list(recent[:got])))
        await k.sleep_ms(every_ms)
