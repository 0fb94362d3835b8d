"""uart_echo: send back every byte that arrives on the UART.

Meant for a UART wired to something (the virtual board's `host` or
`bridge` line mode); on a loopback line it would echo its own echo.
The app subscribes to "data arrived" (notification bit `bit`), reads what
is there and writes it back; a restarted uart server is subscribed again
by the client library. Stops after `limit` bytes when limit > 0 (tests).
"""

from clients.base import ServerError
from clients.uart import Uart


async def main(k, bit=0, limit=0):
    u = Uart(k)
    await u.subscribe(bit)
    echoed = 0
    while not limit or echoed < limit:
        m = await k.wait(1 << bit, 1000)
        if m.rc:  # a quiet second: make sure a restarted server knows us
            await u.status()  # a restarted server gets our subscription again
            continue
        try:
            data = await u.read(64)
            if data:
                await u.write(data)
                echoed += len(data)
        except ServerError as e:
            await k.log("echo: uart error %d" % e.args[0])
    await k.log("echo: %d bytes echoed" % echoed)
