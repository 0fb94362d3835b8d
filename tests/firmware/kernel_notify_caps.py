# Issue 13, break 6: notifications ignored capabilities. A task with no
# grants could post any bit to any task, NOTE_FAULT to the supervisor
# included; docs/kernel.md said bits 0..29 were free and then reserved 29.
#
# Now, with a manifest loaded, notify is granted like send: a task may
# notify the tasks it may send to, those it is granted to notify (badge -1
# in the table: notify only) and its own clients (tasks granted to send to
# it); anything else is E_DENIED with a `denied` trace record. Bits in
# abi.NOTE_KERNEL (NOTE_FAULT) are the kernel's: a notify setting one is a
# badarg fault, manifest or not.
from kt import boot, check, done, recs, state
from keep import abi, caps, fault, kernel, svc, tcb

boot()
log = []


async def sup(k):
    while True:
        m = await k.wait(abi.NOTE_FAULT | 1)
        log.append(("sup woke", m.bits))


async def server(k):
    while True:
        m = await k.recv(None, 1)
        if m.sender >= 0:
            await k.reply(m.call)
        else:
            log.append(("server got bits", m.bits))


async def client(k, srv, x):
    r = await k.send(srv, 1)
    log.append(("client send", r.rc))
    log.append(("client -> its server", await k.notify(srv, 1)))
    log.append(("client -> a task it may only notify", await k.notify(x, 1)))
    log.append(("client -> the supervisor", await k.notify(0, 1)))
    m = await k.wait(2)
    log.append(("client got bits", m.bits))


async def events(k, cl):  # a server the client subscribed to (it may send to it)
    await k.sleep_ms(1)
    log.append(("server -> its client", await k.notify(cl, 2)))


async def listener(k):
    m = await k.wait(1)
    log.append(("notify-only peer got bits", m.bits))


async def loner(k, srv):
    await k.sleep_ms(2)
    log.append(("loner -> server", await k.notify(srv, 1)))
    r = await k.send(srv, 1)
    log.append(("loner send", r.rc))


svc.set_supervisor(kernel.spawn(sup, 0, "sup"))
S = kernel.spawn(server, 1, "server")
C = kernel.spawn(client, 3, "client", (S, 5))
E = kernel.spawn(events, 2, "events", (C,))
L = kernel.spawn(loner, 4, "loner", (S,))
X = kernel.spawn(listener, 2, "listener")
# The device table's grants (keep_host/manifest/table.py): the client may
# send to the server (badge 7) and to `events` (badge 5), and only notify
# the listener (-1); the others are granted nothing.
caps.load([(), (), ((S, 7), (E, 5), (X, -1)), (), (), ()])
kernel.run(until_idle=True)
check(("client send", 0) in log, "granted send: %r" % log)
check(("client -> its server", 0) in log and ("server got bits", 1) in log,
      "a task may notify a server it may send to: %r" % log)
check(("client -> a task it may only notify", 0) in log and ("notify-only peer got bits", 1) in log,
      "a notify-only grant (badge -1) lets it notify: %r" % log)
check(("client -> the supervisor", abi.E_DENIED) in log, "not the supervisor: no grant")
check(("server -> its client", 0) in log and ("client got bits", 2) in log,
      "a server may notify a task granted to send to it (its subscriber): %r" % log)
check(("loner -> server", abi.E_DENIED) in log and ("loner send", abi.E_DENIED) in log,
      "a task with no grants may neither send nor notify: %r" % log)
check(not [e for e in log if e[0] == "sup woke"], "the supervisor was never woken: %r" % log)
check(len(recs(abi.TR_DENIED)) == 3, "each refusal traced: %d" % len(recs(abi.TR_DENIED)))
check(not fault.records, "nobody faulted: %r" % [r.text() for r in fault.records.values()])

# A notify-only grant is not a send grant.
boot()
got = []


async def peer(k):
    await k.recv()


async def notifier(k, p):
    r = await k.send(p, 1)
    got.append(r.rc)


P = kernel.spawn(peer, 1, "peer")
kernel.spawn(notifier, 2, "notifier", (P,))
caps.load([(), ((P, -1),)])
kernel.run(until_idle=True)
check(got == [abi.E_DENIED], "badge -1 grants notify, not send: %r" % got)

# Kernel-reserved bits: posting NOTE_FAULT is a badarg fault, with or
# without a manifest, and the target sees nothing.
for manifest in (False, True):
    boot()
    got.clear()

    async def watcher(k):
        m = await k.wait(abi.NOTE_FAULT, 20)
        got.append(("watcher", m.rc, m.bits))

    async def forger(k, w):
        await k.notify(w, abi.NOTE_FAULT | 1)
        got.append("forger resumed")

    W = kernel.spawn(watcher, 1, "watcher")
    Fg = kernel.spawn(forger, 2, "forger", (W,))
    if manifest:
        caps.load([(), ((W, -1),)])
    kernel.run(until_idle=True)
    rec = fault.records.get(Fg)
    check(rec is not None and rec.kind == abi.F_BADARG, "manifest %r: NOTE_FAULT from a task is badarg"
          % manifest)
    # The forger's own fault posts NOTE_FAULT to the supervisor, if any:
    # here there is none, so the watcher times out.
    check(got == [("watcher", abi.E_TIMEOUT, 0)], "the bit never arrives: %r" % got)
    check(tcb.notes[W] == 0 and state(W) == "done", "nothing pending")
done()
