"""hil: the controller the HIL suite calls over the console channel.

A server; the host reaches it with `keep call` / ConsoleClient.call("hil", op, data).

| op | request | reply |
|---|---|---|
| 1 FLASH | `[n]` (1..32) | `[ok, jedec 3 bytes BE]`: erase sector 0, program n bytes at 0x100, read back, compare |
| 2 LOAD | `[on]` | `[]`: starts / stops the load task |
| 3 PI | `[]` | `[]`: starts the priority-inversion scenario (pi_mid spins, pi_hi calls pi_lo) |
| 4 DEADLOCK | `[]` | `[rc of the cycle's send, as a signed byte]`: hil -> dl_a -> dl_b -> dl_a |
| 5 HANG | `[ms u16]` | never answered within ms: the server sleeps ms before replying (a stalled server) |

Unknown ops get E_NOTSUP. Every result is also a log line (`hil: ...`), so
the host can see it in the trace as well as in the reply.
"""

from clients.base import ServerError
from clients.flash import Flash

_E_NOTSUP = -6
_E_BADARG = -7


async def _flash(k, f, n, seed):
    data = bytes((seed + i * 7) & 0xFF for i in range(n))
    try:
        jedec = await f.check()
        await f.erase(0)
        await f.program(0x100, data)
        back = await f.read(0x100, n)
    except ServerError as e:
        await k.log("hil: flash error rc=%d" % e.args[0])
        return bytes((0, 0, 0, 0))
    ok = 1 if bytes(back) == data else 0
    await k.log("hil: flash %s n=%d jedec=%06x" % ("ok" if ok else "MISMATCH", n, jedec))
    return bytes((ok, jedec >> 16 & 0xFF, jedec >> 8 & 0xFF, jedec & 0xFF))


async def main(k, out_pin=14, in_pin=15, **_):
    f = Flash(k)
    seed = 0
    await k.log("hil: ready out=%d in=%d" % (out_pin, in_pin))
    while True:
        m = await k.recv()
        op, n, b = m.op, m.len, m.body
        if op == 1 and n >= 1 and 1 <= b[0] <= 32:
            seed += 1
            cnt = b[0]
            await k.reply(m.call, 0, await _flash(k, f, cnt, seed))
        elif op == 2 and n >= 1:
            await k.notify(k.lookup("load"), 1 if b[0] else 2)
            await k.reply(m.call, 0)
        elif op == 3:
            await k.notify(k.lookup("pi_mid"), 1)
            await k.notify(k.lookup("pi_hi"), 1)
            await k.reply(m.call, 0)
        elif op == 4:
            r = await k.send(k.lookup("dl_a"), 1, None, None, 500)
            rc = r.rc if r.rc < 0 else (r.rbody[0] - 256 if r.rlen and r.rbody[0] > 127 else 0)
            await k.log("hil: deadlock scenario rc=%d" % rc)
            await k.reply(m.call, 0, bytes((rc & 0xFF,)))
        elif op == 5 and n >= 2:
            ms = b[0] | b[1] << 8
            sender = m.call
            await k.log("hil: stalling %d ms" % ms)
            await k.sleep_ms(ms)
            await k.reply(sender, 0)
        elif op in (1, 2, 5):
            await k.reply(m.call, _E_BADARG)
        else:
            await k.reply(m.call, _E_NOTSUP)
