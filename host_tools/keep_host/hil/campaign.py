"""Fault campaigns: faults on a seeded schedule, invariants from the trace.

    @pytest.mark.keep_faults(seed=7, kinds=["kill", "memory", "stall", "corrupt"], every_ms=150)
    def test_servers_survive(fault_campaign):
        fault_campaign.run()
        fault_campaign.check()

Kinds (each aimed at one of `targets`, chosen by the seeded generator):
  kill / exception / memory / budget_heap / ...   a fault through the console
      (ConsoleClient.fault); invariant: a fault record and a restart of that
      task with a newer generation within restart_ms.
  stall     hold the task for stall_ms, then release it; invariant: the
      release gives it a newer generation.
  corrupt   a request with a random op and random bytes (a malformed
      message from a client); invariant: an answer (an error rc is fine)
      and no fault of the server.
  uart_noise / spi_dead   (virtual board only) noise on the UART line / the
      SPI flash stops answering, for stall_ms; invariant: nothing faults.
Campaign-wide: no BOOT record (the kernel never restarted) and no trace
frame lost, corrupt or dropped.
"""

import random

KILL_KINDS = {"kill": "injected", "exception": "exception", "memory": "memory",
              "budget_heap": "budget_heap", "budget_time": "budget_time", "badarg": "badarg"}
SIM_KINDS = ("uart_noise", "spi_dead")


class Campaign:
    def __init__(self, dut, seed=0, kinds=("kill", "stall", "corrupt"), every_ms=200, count=10,
                 targets=("gpio", "uart", "spi"), stall_ms=100, restart_ms=500):
        self.dut = dut
        self.seed = seed
        self.kinds = list(kinds)
        self.every_ms = every_ms
        self.count = count
        self.targets = list(targets)
        self.stall_ms = stall_ms
        self.restart_ms = restart_ms
        self.rng = random.Random(seed)
        self.done = []  # (kind, target, mark, detail)
        self.start = None

    def schedule(self):
        """The (kind, target) list this seed gives (same seed, same list)."""
        rng = random.Random(self.seed)
        return [(rng.choice(self.kinds), rng.choice(self.targets)) for _ in range(self.count)]

    def run(self):
        d = self.dut
        self.start = d.mark()
        for kind, target in self.schedule():
            if kind in SIM_KINDS and not d.virtual:
                continue
            m = d.mark()
            detail = self._one(kind, target)
            self.done.append((kind, target, m, detail))
            d.link.clock.sleep(self.every_ms / 1000)
        return self.done

    def _one(self, kind, target):
        d = self.dut
        if kind in KILL_KINDS:
            return d.fault(target, KILL_KINDS[kind])
        if kind == "stall":
            d.hold(target)
            d.link.clock.sleep(self.stall_ms / 1000)
            return d.release(target)
        if kind == "corrupt":
            op = self.rng.randrange(6, 256)
            data = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(0, 24)))
            return d.call(target, op, data)
        if kind == "uart_noise":
            uid = d.wiring["uart_loop"][0]
            d.sim.uart_noise(uid, 0.5, seed=self.seed)
            d.link.clock.sleep(self.stall_ms / 1000)
            d.sim.uart_noise(uid, 0)
            return None
        if kind == "spi_dead":
            fl = d.wiring["spi_flash"]
            d.sim.spi_fail(fl["bus"], fl["cs"], on=True)
            d.link.clock.sleep(self.stall_ms / 1000)
            d.sim.spi_fail(fl["bus"], fl["cs"], on=False)
            return None
        raise ValueError(f"unknown fault kind {kind!r}")

    def check(self):
        """Assert the invariants; returns a summary dict."""
        d = self.dut
        restarts = 0
        for kind, target, m, detail in self.done:
            if kind in KILL_KINDS:
                d.expect_restart(target, within_ms=self.restart_ms, since=m)
                restarts += 1
            elif kind == "stall":
                d.wait_event(kind="hold", task=target, where=lambda e: not e["held"], since=m,
                             timeout=2)
                assert detail.get("id", 0) >> 8 > 0, f"{target} released without a new generation"
            elif kind == "corrupt":
                rc, _ = detail
                faults = [e for e in d.events(kind="fault", task=target, since=m)]
                assert not faults or any(k in KILL_KINDS for k, t, mm, _ in self.done
                                         if t == target and mm.index > m.index), \
                    f"{target} faulted on a malformed request (rc {rc})"
        boots = d.events(kind="boot", since=self.start)
        assert not boots, f"the kernel rebooted during the campaign; full log: {d.log_path}"
        frames = d.assert_no_frames_lost(since=self.start)
        return {"faults": len(self.done), "restarts": restarts, "frames_ok": frames["frames_ok"]}
