"""chaos: a client that keeps working while the flaky server keeps dying.

Every `period_ms` it sends ECHO to the `flaky` server with a sequence
number and checks the reply (sequence and checksum). Each request ends in
exactly one of:
  served    a correct reply
  error     an explicit error: E_DEAD (the server died holding it, or was
            restarting), a bad reply (wrong sequence / checksum), any other
            negative rc
  lost      no answer at all (the timeout fired): must stay 0
Alongside, it uses the real drivers through their client libraries: toggles
the LED (gpio), echoes a few bytes over the loopback UART (uart), and reads
the SPI flash's JEDEC id (spi); their failures count as errors too.

Every `report_ms` it logs one line the host demo parses:
  chaos: requests=R served=S errors=E lost=L dead=D bad=B restarts=N drivers=X
(restarts = new flaky instances this client noticed).
"""

import time

from micropython import const

from clients.base import ServerError
from clients.gpio import Gpio
from clients.spi import Flash
from clients.uart import Uart

_E_DEAD = const(-1)  # abi.E_DEAD
_E_TIMEOUT = const(-3)  # abi.E_TIMEOUT


async def main(k, period_ms=10, report_ms=1000, led=2, timeout_ms=500, **_):
    req = bytearray(12)
    served = errors = lost = dead = bad = restarts = drivers = 0
    seq = 0
    sid = k.lookup("flaky")
    g = Gpio(k)
    u = Uart(k)
    f = Flash(k)
    await g.configure(led, g.OUT, value=0)
    t_rep = time.ticks_ms()
    while True:
        seq += 1
        req[0] = seq & 0xFF
        req[1] = seq >> 8 & 0xFF
        req[2] = seq >> 16 & 0xFF
        req[3] = seq >> 24 & 0xFF
        for i in range(4, 12):
            req[i] = (seq + i) & 0xFF
        now = k.lookup("flaky")
        if now != sid:
            sid = now
            restarts += 1
        r = await k.send(sid, 1, req, None, timeout_ms)
        rc = r.rc
        if rc == 0:
            b = r.rbody
            want = sum(req[4:]) & 0xFF
            if r.rlen == 5 and b[0:4] == req[0:4] and b[4] == want:
                served += 1
            else:
                errors += 1
                bad += 1
        elif rc == _E_TIMEOUT:
            lost += 1
        else:
            errors += 1
            if rc == _E_DEAD:
                dead += 1
        if seq % 50 == 0:  # the real drivers, now and then
            try:
                await g.toggle(led)
                await u.write(b"chaos")
                got = b""
                for _ in range(3):
                    got += await u.read(8)
                    if len(got) >= 5:
                        break
                    await k.sleep_ms(1)
                if got != b"chaos":
                    drivers += 1
                await f.check()
            except ServerError:
                drivers += 1
        if time.ticks_diff(time.ticks_ms(), t_rep) >= report_ms:
            t_rep = time.ticks_ms()
            await k.log("chaos: requests=%d served=%d errors=%d lost=%d dead=%d bad=%d "
                        "restarts=%d drivers=%d" % (seq, served, errors, lost, dead, bad,
                                                    restarts, drivers))
        await k.sleep_ms(period_ms)
