# One syscall surface (issue 13): the Handle class defines every syscall
# itself, so the set a task gets does not depend on which kernel modules
# were imported first (before, keep.kernel, keep.svc and keep.mem attached
# them, and a task handle made with only keep.task loaded had none).
# Every syscall has its abi.SYS_* number; tests/host/test_syscall_surface.py
# checks the table, abi.py and docs/kernel.md against each other.
import sys

first = "keep.kernel" not in sys.modules and "keep.svc" not in sys.modules

from keep import task  # noqa: E402  (only keep.task and what it imports)

CONVENIENCE = ("reply_data", "rbuf", "id")  # methods that are not syscalls (views and copies)


def syscalls():
    return sorted(n for n, v in task.Handle.__dict__.items()
                  if not n.startswith("_") and callable(v) and n not in CONVENIENCE)


alone = syscalls()
mem_loaded = "keep.mem" in sys.modules

from keep import abi, kernel, mem, svc  # noqa: E402,F401
from kt import boot, check, done  # noqa: E402

check(first, "the test started with no kernel module loaded")
check(not mem_loaded, "keep.task does not load keep.mem (apps without regions never do)")
check(syscalls() == alone, "the syscall set changed when keep.kernel / keep.mem loaded: %r vs %r"
      % (alone, syscalls()))


def abi_name(n):
    return "SYS_" + n.upper().rstrip("_").replace("_MS", "")


numbers = sorted(getattr(abi, abi_name(n), -1) for n in alone)
want = sorted(v for k, v in abi.__dict__.items() if k.startswith("SYS_"))
check(-1 not in numbers, "every syscall has an abi.SYS_* number: %r" % alone)
check(numbers == want, "every abi.SYS_* number is a syscall: %r vs %r" % (numbers, want))
print("syscalls", len(alone), " ".join(alone))

# A handle made right after boot, before any task ran, already has them all.
boot()
out = []


async def t(k):
    out.append(k.lookup("t") == k.id())
    await k.yield_()
    await k.sleep_ms(0)
    await k.log(b"surface")
    out.append(await k.notify(k.id(), 1))
    m = await k.wait(1, 10)
    out.append(m.bits)


kernel.spawn(t, name="t")
kernel.run(until_idle=True)
check(out == [True, 0, 1], "a task uses the surface: %r" % out)
done()
