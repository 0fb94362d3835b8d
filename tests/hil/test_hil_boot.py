"""Boot and kernel start: the deploy landed, the kernel booted, every task runs."""


def test_kernel_boots_with_every_task(dut):
    boot = dut.events(kind="boot", since=0)[-1]
    assert boot["abi"] == 1
    dut.expect(r"boot: app hil on \w+, \d+ tasks", since=0)
    dut.expect(r"hil: ready out=\d+ in=\d+", since=0)
    tasks = dut.tasks()
    for name in ("supervisor", "gpio", "uart", "spi", "hil", "load", "edges", "pi_lo"):
        assert name in tasks, name
        assert tasks[name].state_name not in ("faulted", "held", "empty"), tasks[name]


def test_console_call_and_unknown_op(dut):
    rc, data = dut.call("hil", 99)
    assert rc == -6 and data == b""  # E_NOTSUP: unknown ops are answered, not crashed on
    assert not dut.events(kind="fault")
    # The first call started the console proxy (if no earlier one had), after the app's tasks.
    tasks = dut.tasks()
    assert tasks["console"].slot == max(t.slot for t in tasks.values())
    assert tasks["console"].state_name not in ("faulted", "held", "empty"), tasks["console"]
