"""Priority inheritance and deadlock detection, visible in the trace
(scenarios in firmware/apps/hil/kpi.py)."""

import re

PI, DEADLOCK = 3, 4


def test_priority_inheritance(dut):
    m = dut.mark()
    assert dut.call("hil", PI)[0] == 0
    served = dut.expect(r"pi: hi served in (\d+) ms rc=0", timeout=3, since=m)
    dut.expect(r"pi: mid spun (\d+) ms", timeout=3, since=m)
    hi, lo, mid = dut.slot("pi_hi"), dut.slot("pi_lo"), dut.slot("pi_mid")
    send = dut.wait_event(kind="send", task=hi, where=lambda e: e["peer"] == lo, since=m)
    reply = dut.wait_event(kind="reply", task=lo, where=lambda e: e["peer"] == hi, since=m)
    spun = dut.wait_event(kind="log", task=mid, where=lambda e: "spun" in e["text"], since=m)
    # pi_lo (priority 6) answered pi_hi (2) while pi_mid (4) was still spinning:
    # it ran at the inherited priority. Without inheritance it waits the spin out.
    items = dut.link.items
    assert items.index(reply) < items.index(spun), "the reply came only after the spin"
    took_ms = (reply.t_us - send.t_us) / 1000
    assert took_ms < 100 and int(served.group(1)) < 100, took_ms
    lo_slices = dut.events(kind="switch", task=lo, since=m)
    assert lo_slices, "pi_lo never ran"


def test_deadlock_is_refused_and_traced(dut):
    m = dut.mark()
    rc, data = dut.call("hil", DEADLOCK)
    assert rc == 0
    assert data[0] - 256 == -2, data  # E_DEADLOCK came back down the chain
    ev = dut.wait_event(kind="deadlock", task="dl_b", since=m, timeout=2)
    assert ev["peer"] == dut.slot("dl_a")
    dut.expect(r"dl: dl_b -> dl_a rc=-2", since=m)
    assert re.search(r"deadlock scenario rc=-2", "\n".join(dut.lines(since=m)))
    assert not dut.events(kind="fault", since=m), "a refused send faults nobody"
