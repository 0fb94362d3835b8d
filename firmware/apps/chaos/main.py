"""chaos: a client that keeps working while the flaky server keeps dying.

Every `period_ms` it sends ECHO to the `flaky` server with a sequence
number and checks the reply (sequence and checksum). Each request ends in
exactly one of:
  served    a correct reply
  error     an explicit error: E_DEAD (the server died holding it, or was
            restarting), a bad reply (wrong sequence / checksum), any other
            negative rc
  lost      no answer at all (the timeout fired): must stay 0
Alongside, it uses the real drivers: toggles the LED (gpio), echoes the
request over the loopback UART (uart), and reads the SPI flash's JEDEC id
(spi); their failures count as errors too.

Every `report_ms` it logs one line the host demo parses:
  chaos: requests=R served=S errors=E lost=L dead=D bad=B restarts=N drivers=X
(restarts = new flaky instances this client noticed).

flaky and the drivers are reached through the generic client
(clients.base.Client) with their ops' numbers, not through the client
libraries (clients.gpio, .uart, .spi): this app is the 64 KB RAM demo, and
the libraries' classes, whose every method is a function object on the
heap even when its bytecode runs from ROMFS, would cost it ~1.5 K it does
not have (docs/servers.md, RAM). In a monolithic build (`keep deploy
--monolithic`, clients/direct.py) the same calls run the servers' code in
this task.
"""

import time

# const() needs no import: the compiler folds it.
import clients.base

_E_DEAD = const(-1)  # abi.E_DEAD
_E_TIMEOUT = const(-3)  # abi.E_TIMEOUT
# (new: abigen to adopt)
_GPIO_TOGGLE = const(3)  # [pin] -> [level]
_GPIO_CONFIG = const(4)  # [pin, mode, pull, level] -> []
_UART_WRITE = const(1)  # [bytes...] -> [n u16]
_UART_READ = const(2)  # [max u16] -> [bytes...]
_SPI_XFER = const(1)  # [rlen, 0, loff u16, ln u16, write bytes...] -> [rlen bytes]


# No **_ here (docs/howto-task.md suggests one): the dict it would fill
# lives as long as the task, 96 bytes for three args, and this app's args
# come from its own app.toml. For the same reason the loop keeps few
# locals, each one 8 bytes of the task's frame for as long as it runs.
async def main(k, period_ms=10, report_ms=1000, led=2, timeout_ms=500):
    # The request is built in this task's receive buffer (k.m.body): only a
    # server's messages land there, and this task never receives one, so a
    # view of it replaces a 12-byte bytearray (an object and its data).
    req = k.m.body[:12]
    served = errors = lost = dead = bad = restarts = drivers = 0
    seq = 0
    fl = clients.base.Client(k, "flaky", timeout_ms)
    gpio = clients.base.Client(k, "gpio")
    uart = clients.base.Client(k, "uart")
    spi = clients.base.Client(k, "spi")
    await gpio.call(_GPIO_CONFIG, bytes((led, 1, 0, 0)))  # an output, no pull, low
    t_rep = time.ticks_ms()
    while True:
        seq += 1
        req[0] = seq & 0xFF
        req[1] = seq >> 8 & 0xFF
        req[2] = seq >> 16 & 0xFF
        req[3] = seq >> 24 & 0xFF
        for i in range(4, 12):
            req[i] = (seq + i) & 0xFF
        try:  # not idempotent: an E_DEAD is counted, never hidden by a retry
            r = await fl.call(1, req, None, False)
            if r.rlen == 5 and r.rbody[0:4] == req[0:4] and r.rbody[4] == sum(req[4:]) & 0xFF:
                served += 1
            else:
                errors += 1
                bad += 1
        except clients.base.ServerError as e:
            if e.args[0] == _E_TIMEOUT:
                lost += 1
            else:
                errors += 1
                if e.args[0] == _E_DEAD:
                    dead += 1
        restarts = fl.restarts_seen
        if seq % 50 == 0:  # the real drivers, now and then
            try:
                await gpio.call(_GPIO_TOGGLE, bytes((led,)), None, False)
                # the request's 12 bytes, not a bytes literal: each literal
                # is a heap object for as long as the module is loaded
                await uart.call(_UART_WRITE, req, None, False)
                got = b""
                for _ in range(3):
                    got += (await uart.call(_UART_READ, bytes((16, 0)), None, False)).reply_data()
                    if len(got) >= 12:
                        break
                    await k.sleep_ms(1)
                if got != req:
                    drivers += 1
                del got  # else the task's frame keeps it alive until the next round
                # the flash's JEDEC id: XFER [rlen 3, 0, loff 0, ln 0] and the
                # read-id command 0x9f; no device answers all ones (or zeros)
                d = (await spi.call(_SPI_XFER, bytes((3, 0, 0, 0, 0, 0, 0x9F)))).rbody
                if d[0] == d[1] == d[2] and (d[0] == 0 or d[0] == 0xFF):
                    drivers += 1
            except clients.base.ServerError:
                drivers += 1
        if time.ticks_diff(time.ticks_ms(), t_rep) >= report_ms:
            t_rep = time.ticks_ms()
            await k.log("chaos: requests=%d served=%d errors=%d lost=%d dead=%d bad=%d "
                        "restarts=%d drivers=%d" % (seq, served, errors, lost, dead, bad,
                                                    restarts, drivers))
        await k.sleep_ms(period_ms)
