"""Keep's HIL suite on boards reserved through labgrid (issue 17), on a farm
made here: a labgrid coordinator and two exporters on 127.0.0.1, each
exporting a `keep vboard` console (tests/host/farm_rig.py), places pico-1
(with a power switch) and pico-2 (without).

- `keep test --port labgrid:pico-1,pico-2 -n 2`: part of the HIL suite on
  both places at once, each worker on its own place, the rig found;
- a place held by someone else: one line, from `keep test` and `keep tasks`;
- a board that stops answering on a place with power: labgrid power-cycles it;
  on a place without: the test fails naming the place;
- an exporter killed mid-run: one line naming the place, and the run stops.

An emulated Pico on the farm (`python tests/host/farm_rig.py --pico`) is left
to a run by hand: its deploy alone would add a minute to `make test`, and
the HIL suite already runs on the emulated Pico there.

labgrid comes from the farm venv (`make farm`, made here if missing): if it
cannot be made these tests fail, they do not skip.
"""

import os
import subprocess
import textwrap
import urllib.request
from pathlib import Path

import pytest

from keep_host.boardtime import Deadline
from keep_host.paths import ROOT, venv_bin

HIL = ROOT / "tests" / "hil"
RUN_S = 240  # bound of one inner `keep test` (its own tests have board-time deadlines)


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    r = subprocess.run(["make", "-C", str(ROOT), "farm"], capture_output=True, text=True)
    if r.returncode:
        pytest.fail(f"make farm failed (labgrid's venv): {(r.stdout + r.stderr)[-2000:]}")
    from farm_rig import Farm

    f = Farm(tmp_path_factory.mktemp("farm"))
    yield f
    f.close()


def keep(farm, *args, env=None):
    """`keep ARGS` against the farm: (exit code, stdout, stderr)."""
    env = dict(farm.env, **(env or {}))
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("KEEP_PORT", None)
    r = subprocess.run([str(venv_bin("keep")), *args], capture_output=True, text=True, env=env,
                       timeout=RUN_S, cwd=ROOT)
    return r.returncode, r.stdout, r.stderr


def ports_in_logs(logdir):
    """The port each test's log header names: `# nodeid on PORT (board), app ...`."""
    ports = {}
    for log in Path(logdir).glob("*.log"):
        head = log.read_text().splitlines()[0].split()
        ports[head[1]] = head[3]
    return ports


def test_two_places_two_workers(farm, tmp_path):
    farm.client("-p", "pico-1", "acquire")
    farm.client("-p", "pico-2", "acquire")
    try:
        rc, out, err = keep(farm, "test", "--port", "labgrid:pico-1,pico-2", "-n", "2",
                            "--keep-log-dir", str(tmp_path / "logs"),
                            str(HIL / "test_hil_gpio.py"), str(HIL / "test_hil_boot.py"),
                            str(HIL / "test_hil_kernel.py"))
    finally:
        farm.client("-p", "pico-1", "release")
        farm.client("-p", "pico-2", "release")
    last = out.strip().splitlines()[-1]
    assert rc == 0 and "passed" in last and "failed" not in last, out[-3000:] + err[-2000:]
    used = set(ports_in_logs(tmp_path / "logs").values())
    # Each worker on its own place's board, found by URL (so the gpio tests had their rig).
    assert used == {b.url for b in farm.boards}, used


def test_a_place_held_by_someone_else(farm):
    farm.client("-p", "pico-2", "acquire", user="someone-else")
    try:
        rc, out, err = keep(farm, "test", "--port", "labgrid:pico-2", str(HIL / "test_hil_boot.py"))
        rc2, out2, err2 = keep(farm, "tasks", "--port", "labgrid:pico-2")
    finally:
        farm.client("-p", "pico-2", "release", user="someone-else")
    line = "labgrid place pico-2 is held by "
    text = out + err  # from pytest's report, or from keep test's own port check
    assert rc != 0 and line in text and "/someone-else, not by you" in text, text[-3000:]
    # Said once (pytest repeats it as its reason to stop), never per test.
    assert text.count(line) <= 2, text[-3000:]
    assert "Traceback" not in text and "cannot open" not in text
    assert rc2 == 1 and out2 == "" and len(err2.splitlines()) == 1, err2
    assert err2.startswith("keep tasks: " + line), err2


POWER_LOST = textwrap.dedent('''
    import os
    import urllib.request

    import pytest

    pytestmark = pytest.mark.keep_app("hil")

    def test_a_power_lost(dut):
        urllib.request.urlopen(os.environ["FARM_RELAY_OFF"]).read()   # the board stops
        dut.expect(r"never printed", timeout=1)

    def test_b_after_the_power_cycle(dut):
        assert dut.tasks()["gpio"].state_name != "held"
''')


def test_a_board_that_stops_answering_is_power_cycled(farm, tmp_path):
    (tmp_path / "test_power.py").write_text(POWER_LOST)
    relay = farm.relay
    off = f"http://127.0.0.1:{relay.server_port}/relay/0/0"
    farm.client("-p", "pico-1", "acquire")
    try:
        rc, out, err = keep(farm, "test", "--port", "labgrid:pico-1",
                            "--rootdir", str(tmp_path), "--keep-log-dir", str(tmp_path / "logs"),
                            str(tmp_path / "test_power.py"), env={"FARM_RELAY_OFF": off})
    finally:
        farm.client("-p", "pico-1", "release")
    assert "1 failed, 1 passed" in out, out[-3000:] + err[-2000:]
    log = (tmp_path / "logs" / "test_power.py_test_a_power_lost.log").read_text()
    assert "# power-cycling labgrid place pico-1" in log and "# recovered" in log, log[-2000:]
    # The test's own cut, then labgrid's cycle: off, on.
    assert relay.switches[-3:] == [(0, False), (0, False), (0, True)], relay.switches


def test_a_board_without_power_that_stops_answering_fails_naming_the_place(farm, tmp_path):
    """pico-2 has no power resource. Its Keep run looks for virtual boards in
    another runtime folder, so the board is a real one to it (no simulator to
    reset it from outside): the test fails naming the place, and the run stops."""
    (tmp_path / "test_power.py").write_text(POWER_LOST)
    relay = f"http://127.0.0.1:{farm.relay.server_port}/relay/1"
    farm.client("-p", "pico-2", "acquire")
    try:
        rc, out, err = keep(farm, "test", "--port", "labgrid:pico-2", "--rootdir", str(tmp_path),
                            "--keep-log-dir", str(tmp_path / "logs"),
                            str(tmp_path / "test_power.py"),
                            env={"FARM_RELAY_OFF": relay + "/0",
                                 "XDG_RUNTIME_DIR": str(tmp_path / "elsewhere")})
    finally:
        farm.client("-p", "pico-2", "release")
        urllib.request.urlopen(relay + "/1").read()  # power back for the tests after this one
    line = "labgrid place pico-2: the board does not answer and the place has no power resource"
    assert rc != 0 and line in out, out[-3000:] + err[-2000:]
    assert "test_b_after_the_power_cycle" not in out, out[-3000:]  # the run stopped
    log = (tmp_path / "logs" / "test_power.py_test_a_power_lost.log").read_text()
    assert "# reset failed: " in log and "# power-cycling" not in log, log[-2000:]


def test_an_exporter_killed_mid_run(farm, tmp_path):
    """Last in this file: pico-2's exporter does not come back."""
    env = dict(farm.env)
    env.pop("PYTEST_XDIST_WORKER", None)
    logs = tmp_path / "logs"
    farm.client("-p", "pico-2", "acquire")
    run = subprocess.Popen([str(venv_bin("keep")), "test", "--port", "labgrid:pico-2",
                            "--keep-log-dir", str(logs),
                            str(HIL / "test_hil_boot.py"), str(HIL / "test_hil_kernel.py"),
                            str(HIL / "test_hil_gpio.py")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                           cwd=ROOT)
    try:
        d = Deadline(RUN_S)
        while not any(logs.glob("*.log")) and run.poll() is None and not d.expired():
            d.clock.sleep(0.05)  # until the first test has its board
        farm.boards[1].exporter.kill()
        out, _ = run.communicate(timeout=RUN_S)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        farm.client("-p", "pico-2", "release")
    line = "labgrid place pico-2: its exporter farm-exp2 disconnected"
    assert run.returncode != 0 and line in out, out[-3000:]
    assert "cannot open" not in out and "Traceback" not in out, out[-3000:]
    last = out.strip().splitlines()[-1]
    assert "1 error" in last or "1 failed" in last, last  # one test says it; the run stops
    assert "Interrupted: " + line in out


def test_a_list_of_places_is_one_place_per_worker():
    from keep_host.hil.ports import pick

    spec = "labgrid:pico-1,pico-2"
    assert [pick(spec, w) for w in ("gw0", "gw1")] == ["labgrid:pico-1", "labgrid:pico-2"]
    assert pick("labgrid:pico-1", None) == "labgrid:pico-1"


def test_without_the_farm_venv_one_line_says_make_farm(tmp_path):
    r = subprocess.run([str(venv_bin("keep")), "tasks", "--port", "labgrid:pico-1"],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, KEEP_FARM_VENV=str(tmp_path / "none")))
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "run `make farm`" in r.stderr, r.stderr
