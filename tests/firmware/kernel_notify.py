# Notifications: bits, masks, waking wait and recv, timeouts, interrupts.
from kt import boot, check, done, recs
from keep import abi, irq, kernel, tcb

boot()
got = []


async def waiter(k):
    m = await k.wait(0b0110)
    got.append(("wait", m.rc, m.bits))
    m = await k.wait(0b1000, 5)
    got.append(("timeout", m.rc, m.bits))
    got.append(("pending", tcb.notes[k.slot]))
    m = await k.recv(None, 0b0001)
    got.append(("recv-note", m.rc, m.bits, m.sender))


async def poster(k, w):
    rc = await k.notify(w, 0b0011)  # bit 1 wakes the wait, bit 0 stays pending
    got.append(("notify", rc))


w = kernel.spawn(waiter, 2, "waiter")
kernel.spawn(poster, 3, "poster", (w,))
kernel.run(until_idle=True)
# The more important waiter runs as soon as it is woken, before the poster goes on.
check(got[0] == ("wait", 0, 0b0010), "wait takes only the bits in its mask: %r" % got)
check(got[1] == ("notify", 0), "notify never blocks and returns OK: %r" % got)
check(got[2] == ("timeout", abi.E_TIMEOUT, 0), "wait times out: %r" % got)
check(got[3] == ("pending", 0b0001), "bits outside the mask stay pending: %r" % got)
check(got[4] == ("recv-note", 0, 0b0001, -1), "recv returns a pending notification: %r" % got)
check(len(recs(abi.TR_NOTIFY)) == 1 and len(recs(abi.TR_WAKE)) == 2, "notify and wakes traced")

# A notification wakes a task blocked in recv; a stale id gives E_DEAD.
boot()
out = []


async def server(k):
    m = await k.recv(None, 1 << 5)
    out.append((m.bits, m.sender, m.op))


async def pinger(k, s):
    await k.sleep_ms(2)
    out.append(await k.notify(s, 1 << 5))
    out.append(await k.notify(s | 3 << 8, 1))


s = kernel.spawn(server, 2, "server")
kernel.spawn(pinger, 3, "pinger", (s,))
kernel.run(until_idle=True)
check(out == [(32, -1, -1), 0, abi.E_DEAD], "recv woken by a notification, stale id E_DEAD: %r" % out)

# Interrupt handlers post bits with irq.post; the kernel delivers them.
boot()
woke = []


async def isr_waiter(k):
    m = await k.wait(1 << 3, 100)
    woke.append((m.rc, m.bits))


async def fake_isr(k, slot):
    await k.sleep_ms(2)
    irq.post(slot, 1 << 3)  # what a Pin.irq handler does


s = kernel.spawn(isr_waiter, 1, "waiter")
kernel.spawn(fake_isr, 5, "isr", (s,))
kernel.run(until_idle=True)
check(woke == [(0, 8)], "irq.post wakes the waiter: %r" % woke)
done()
