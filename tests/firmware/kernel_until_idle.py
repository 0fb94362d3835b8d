# Issue 13, break 7: kernel.run(until_idle=True) waited for the deadlines
# of timeouts already cancelled (up to seconds). A cancelled timeout only
# clears its task's `timed` flag; the scheduler's cached soonest deadline
# stayed, and the idle loop trusted it.
#
# Now, when nothing is runnable, the kernel looks at the armed timers
# themselves (timers.until_next): the run returns as soon as everyone
# waits for ever, and an idle wait ends at the next live deadline.
import time

from kt import boot, check, done
from keep import kernel, timers

LONG_MS = 3000
boot()
log = []


async def server(k):
    m = await k.recv(LONG_MS)  # a message comes long before the timeout
    log.append(("server got", m.rc))
    await k.reply(m.call)
    await k.recv()  # then waits for ever, without a timeout


async def client(k, srv):
    r = await k.send(srv, 1, None, None, LONG_MS)  # answered at once
    log.append(("client", r.rc))
    m = await k.wait(1, LONG_MS)  # woken by the notifier
    log.append(("woken", m.rc, m.bits))
    await k.wait(2)  # for ever


async def notifier(k, c):
    await k.notify(c, 1)


s = kernel.spawn(server, 1, "server")
c = kernel.spawn(client, 2, "client", (s,))
kernel.spawn(notifier, 3, "notifier", (c,))
t0 = time.ticks_ms()
kernel.run(until_idle=True)
dt = time.ticks_diff(time.ticks_ms(), t0)
check(log == [("server got", 0), ("client", 0), ("woken", 0, 1)], "every call completed: %r" % log)
check(dt < LONG_MS // 4, "run(until_idle=True) returned in %d ms, not after the cancelled %d ms"
      " timeouts" % (dt, LONG_MS))
check(timers.until_next(time.ticks_ms()) == -1, "no timer is armed")

# A live deadline behind a cancelled one: the idle wait ends at the live one.
boot()
woke = []


async def short_then_long(k, srv):
    r = await k.send(srv, 1, None, None, LONG_MS)  # cancelled at once
    woke.append(r.rc)
    t = time.ticks_ms()
    await k.sleep_ms(30)  # the one live deadline
    woke.append(time.ticks_diff(time.ticks_ms(), t) >= 30)


async def echo(k):
    m = await k.recv()
    await k.reply(m.call)


e = kernel.spawn(echo, 1, "echo")
kernel.spawn(short_then_long, 2, "sleeper", (e,))
t0 = time.ticks_ms()
kernel.run(until_idle=True)
dt = time.ticks_diff(time.ticks_ms(), t0)
check(woke == [0, True], "the sleep ran its 30 ms: %r" % woke)
check(dt < LONG_MS // 4, "and the run ended after it (%d ms)" % dt)
done()
