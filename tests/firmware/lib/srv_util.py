# Helpers for the srv_* and app_* firmware tests: the real supervisor in
# slot 0 and the real region arena (keep.mem), as runtime.boot sets them up.
from keep import kernel, mem, svc
from servers import supervisor


def boot(regions=(), backoff_ms=0, echo_text=False, rules="sim"):
    """Boot the kernel, size the arena for `regions` (each task's region
    specs, in the order the tasks will be spawned) under the board's MPU
    rules, and spawn the supervisor in slot 0 (restarting at once by
    default). Spawn the other tasks with kernel.spawn(..., regions=...)."""
    kernel.boot(echo_text=echo_text)
    mem.init(mem.need(regions, rules), rules)
    kernel.spawn(supervisor.main, 0, "supervisor", {"backoff_ms": backoff_ms})
    svc.set_supervisor(0)


def restarts():
    """Restarts the supervisor made."""
    return supervisor.stats["restarts"]
