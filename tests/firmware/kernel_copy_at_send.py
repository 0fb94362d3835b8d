# Issue 13, break 2: the message was copied at receive, not at send. The
# kernel kept a reference to the sender's buffer while the call was queued,
# so another task of the app (or an interrupt handler) that rewrote the
# bytearray changed what the server saw (b"PAY-TAMPERED").
#
# Now a message is a snapshot taken at send: straight into the waiting
# server's buffer, or into the sender's own reply buffer while it queues.
# Still no allocation (kernel_syscall_heaplock.py runs a queued send locked).
import micropython

from kt import boot, check, done
from keep import kernel

boot(max_msg=16)
seen = []
shared = bytearray(b"PAY-ORIGINAL")  # one buffer, two tasks of one app


async def busy_server(k):
    await k.sleep_ms(5)  # busy: the call queues meanwhile
    for _ in range(2):
        m = await k.recv()
        seen.append(m.data())
        await k.reply(m.call, 0, m.body[: m.len])


async def sender(k, srv):
    r = await k.send(srv, 1, shared)
    seen.append(("reply", r.reply_data()))


async def tamperer(k):
    await k.sleep_ms(1)  # the sender is queued at the server now
    shared[4:] = b"TAMPERED"


def isr(_):
    """What an interrupt handler might do to the same kind of buffer."""
    for i in range(4, len(from_isr)):
        from_isr[i] = 0x21


from_isr = bytearray(b"ISR-ORIGINAL")


async def isr_sender(k, srv):
    r = await k.send(srv, 2, from_isr)
    seen.append(("reply", r.reply_data()))


async def fake_irq(k):
    await k.sleep_ms(2)
    isr(None)  # between two slices, as an interrupt would


s = kernel.spawn(busy_server, 1, "srv")
kernel.spawn(sender, 2, "sender", (s,))
kernel.spawn(isr_sender, 2, "isr_sender", (s,))
kernel.spawn(tamperer, 3, "tamperer")
kernel.spawn(fake_irq, 3, "irq")
kernel.run(until_idle=True)
check(shared == b"PAY-TAMPERED" and from_isr == b"ISR-!!!!!!!!", "the buffers were rewritten")
check(b"PAY-ORIGINAL" in seen and b"ISR-ORIGINAL" in seen,
      "the server saw each message as it was at send: %r" % seen)
check(("reply", b"PAY-ORIGINAL") in seen and ("reply", b"ISR-ORIGINAL") in seen,
      "and echoed it back: %r" % seen)

# Sending a slice of the task's own reply buffer (the last reply) is fine:
# the snapshot goes where the slice already is.
boot(max_msg=16)
got = []


async def echo(k):
    await k.sleep_ms(2)  # queue every call
    while True:
        m = await k.recv()
        await k.reply(m.call, 0, m.body[: m.len])


async def forwarder(k, srv):
    r = await k.send(srv, 1, b"0123456789")
    r = await k.send(srv, 2, r.rbody[2 : r.rlen])  # its own reply buffer, shifted
    got.append(r.reply_data())
    r = await k.send(srv, 3, r.rbody[: r.rlen])  # in place
    got.append(r.reply_data())


s = kernel.spawn(echo, 1, "echo")
kernel.spawn(forwarder, 2, "fwd", (s,))
kernel.run(until_idle=True)
check(got == [b"23456789", b"23456789"], "a slice of the reply buffer is sent intact: %r" % got)

# A queued send allocates nothing (the snapshot goes to a preallocated buffer).
boot(max_msg=16)
out = {}


async def slow(k):
    while True:
        await k.yield_()
        m = await k.recv()
        await k.reply(m.call)


async def queued(k, srv):
    data = bytearray(b"queued")
    await k.send(srv, 1, data)
    micropython.heap_lock()
    try:
        n = 0
        for _ in range(50):
            r = await k.send(srv, 1, data)
            n += r.rc == 0
    finally:
        micropython.heap_unlock()
    out["n"] = n


s = kernel.spawn(slow, 2, "slow")
kernel.spawn(queued, 2, "queued", (s,))
kernel.run(until_idle=True)
check(out.get("n") == 50, "queued sends under heap_lock: %r" % out)
done()
