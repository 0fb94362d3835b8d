"""The plugin itself, in an inner pytest run (a subprocess, its own virtual
boards): a hung test hits its hard timeout and the board is recovered for
the next test; a failed expectation shows the pattern, the last lines and
the log path; with -n 2 each xdist worker owns its own virtual board."""

import os
import subprocess
import sys
import textwrap

INNER = textwrap.dedent('''
    import os, time
    import pytest

    pytestmark = pytest.mark.keep_app("hil")

    @pytest.mark.keep_timeout(4)
    def test_a_hang(dut):
        dut.write(b"\\x03")        # stop the kernel: the board sits at the REPL
        time.sleep(60)             # and the test hangs

    def test_b_after_the_hang(dut):
        assert dut.tasks()["gpio"].state_name != "held"
        _note(dut)

    def test_c_expect_fails(dut):
        dut.expect(r"no such line \\d+", timeout=1)

    def test_d_port(dut):
        _note(dut)

    def _note(dut):
        with open("ports.txt", "a") as f:
            f.write(f"WORKER {os.environ.get('PYTEST_XDIST_WORKER')} {dut.port}\\n")
''')


def _outside_xdist():
    """This process's environment without the xdist worker id it may run under
    (`keep test -n 2`): the inner run is a pytest of its own."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}


def _run(tmp_path, *args):
    f = tmp_path / "test_inner.py"
    f.write_text(INNER)
    return subprocess.run([sys.executable, "-m", "pytest", str(f), "-p", "no:cacheprovider",
                           "--port", "vboard", "--keep-log-dir", str(tmp_path / "logs"),
                           "-rA", "-s", "--rootdir", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=_outside_xdist())


def test_timeout_recovery_and_failure_report(tmp_path):
    r = _run(tmp_path, "-p", "no:xdist")
    out = r.stdout
    assert "FAILED test_inner.py::test_a_hang" in out, out[-3000:]
    assert "Timeout" in out
    assert "PASSED test_inner.py::test_b_after_the_hang" in out, out[-3000:]
    assert "FAILED test_inner.py::test_c_expect_fails" in out
    assert "pattern 'no such line \\\\d+' not seen within 1 s" in out, out[-3000:]
    assert "last lines received:" in out and "full log: " in out
    log = tmp_path / "logs" / "test_inner.py_test_a_hang.log"
    assert "# recovering the board" in log.read_text() and "# recovered" in log.read_text()
    assert "2 failed, 2 passed" in out


def test_two_workers_two_boards(tmp_path):
    r = _run(tmp_path, "-n", "2", "-k", "b_after or d_port")
    assert "2 passed" in r.stdout, r.stdout[-3000:]
    lines = (tmp_path / "ports.txt").read_text().splitlines()
    workers = {ln.split()[1] for ln in lines}
    ports = {ln.split()[2] for ln in lines}
    assert workers == {"gw0", "gw1"} and len(ports) == 2, lines  # one board per worker


def test_a_board_started_by_hand_has_its_rig(tmp_path):
    """`keep vboard` started by anyone is found by its URL: its simulated
    wiring is there, so the tests that need it run instead of skipping."""
    from pathlib import Path

    from keep_host.paths import venv_bin

    vb = subprocess.Popen([str(venv_bin("keep")), "vboard", "--flash", str(tmp_path / "flash")],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = vb.stdout.readline().strip()
        hil = Path(__file__).parent
        r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA",
                            "--port", url, "--rootdir", str(hil.parent.parent),
                            str(hil / "test_hil_gpio.py") + "::test_input_reads_the_wired_level",
                            str(hil / "test_hil_gpio.py") + "::test_edges_reach_the_subscriber"],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path,
                           env=_outside_xdist())
    finally:
        vb.terminate()
        vb.wait(30)
    assert r.returncode == 0 and "2 passed" in r.stdout.splitlines()[-1], r.stdout[-3000:]
