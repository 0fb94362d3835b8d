# Fixed priorities (lower number first) and round-robin within a priority.
from kt import boot, check, done
from keep import kernel, sched

check(sched.more_important(0, 1) and not sched.more_important(3, 3), "lower number is more important")
boot()
ran = []


async def worker(k, tag, n):
    for i in range(n):
        ran.append(tag)
        await k.yield_()


kernel.spawn(worker, 4, "b1", ("b1", 3))
kernel.spawn(worker, 4, "b2", ("b2", 3))
kernel.spawn(worker, 1, "hi", ("hi", 2))
kernel.spawn(worker, 7, "lo", ("lo", 1))
kernel.run(until_idle=True)
check(ran == ["hi", "hi", "b1", "b2", "b1", "b2", "b1", "b2", "lo"], "schedule order: %r" % ran)

# A task woken by a more important event runs before equals that were waiting.
boot()
seq = []


async def sleeper(k):
    await k.sleep_ms(20)
    seq.append("sleeper woke")


async def spinner(k):
    t = 0
    while t < 40:
        seq.append("spin") if not seq or seq[-1] != "spin" else None
        await k.sleep_ms(1)
        t += 1


kernel.spawn(sleeper, 2, "sleeper")
kernel.spawn(spinner, 5, "spinner")
kernel.run(until_idle=True)
check("sleeper woke" in seq and seq[0] == "spin", "sleep and wake: %r" % seq[:4])

# Priorities out of range are refused at spawn.
try:
    kernel.spawn(worker, 8, "bad", ("x", 1))
    check(False, "priority 8 accepted")
except ValueError:
    pass
done()
