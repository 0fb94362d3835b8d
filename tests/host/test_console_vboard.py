"""keep tasks / hold / release / fault / call against a kernel running on a
real virtual board (console_demo deployed with the test main.py): the
commands work over the console while the kernel keeps running."""

import json
import re

import pytest
from vboard_app import app_copy, firmware_tree, fresh_board

from keep_host import abi, cli
from keep_host.deploy import deploy


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    with fresh_board(tmp) as (board, _flash):
        mark = board.mark()
        deploy(board.url, app_copy(tmp), firmware=firmware_tree(tmp))
        board.wait_output("ticker 25", 10, since=mark)
        yield board


def keep(capsys, *argv):
    rc = cli.main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def tasks(vb, capsys):
    rc, out, err = keep(capsys, "tasks", "--port", vb.url, "--json")
    assert rc == 0, err
    return {t["name"]: t for t in map(json.loads, out.splitlines())}


def still_running(vb):
    """The ticker keeps printing: the kernel was never stopped."""
    mark = vb.mark()
    vb.wait_output(re.compile(rb"ticker \d+"), 5, since=mark)


def test_tasks_table(vb, capsys):
    rc, out, err = keep(capsys, "tasks", "--port", vb.url)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["SLOT", "NAME", "STATE", "PRIO", "GEN", "RESTARTS", "LAST", "FAULT"]
    # The console proxy is not there yet: the first `keep call` starts it.
    assert [ln.split()[1] for ln in lines[1:]] == ["supervisor", "echo", "ticker"]
    t = tasks(vb, capsys)
    assert t["echo"]["state"] in ("in_recv", "runnable") and t["echo"]["priority"] == 1
    still_running(vb)


def test_hold_and_release(vb, capsys):
    rc, out, _ = keep(capsys, "hold", "--port", vb.url, "ticker")
    assert rc == 0 and out.strip() == "ticker: held"
    assert tasks(vb, capsys)["ticker"]["state"] == "held"
    mark = vb.mark()
    rc, out, _ = keep(capsys, "release", "--port", vb.url, "ticker")
    assert rc == 0 and out.startswith("ticker: ") and "generation 1" in out
    vb.wait_output(re.compile(rb"ticker \d+"), 5, since=mark)


def test_fault_is_restarted_by_the_supervisor(vb, capsys):
    rc, out, _ = keep(capsys, "fault", "--port", vb.url, "echo", "memory")
    assert rc == 0 and "echo: memory fault" in out
    t = tasks(vb, capsys)["echo"]
    assert t["generation"] == 1 and t["restarts"] == 1 and "memory fault" in t["last_fault"]
    still_running(vb)


def test_call_a_server_op(vb, capsys):
    rc, out, _ = keep(capsys, "call", "--port", vb.url, "echo", "2", "6869")
    assert rc == 0 and out.strip() == "rc 5 (ok) data 4849 (2 bytes)"
    rc, out, _ = keep(capsys, "call", "--port", vb.url, "echo", "9")
    assert rc == 1 and out.strip() == f"rc {abi.E_NOTSUP} (notsup) data - (0 bytes)"
    t = tasks(vb, capsys)  # the first call started the proxy, in the slot after the app's
    assert t["console"]["slot"] == 3 and t["console"]["generation"] == 0
    still_running(vb)


def test_unknown_task_is_one_line(vb, capsys):
    rc, out, err = keep(capsys, "hold", "--port", vb.url, "nosuch")  # console: since the call above
    assert rc == 1 and err.strip() == ("keep hold: no task nosuch (tasks: supervisor, echo, "
                                       "ticker, console)")
    still_running(vb)


def test_board_at_the_repl_is_one_line(vb, capsys):
    vb.write(b"\x03")  # stop the kernel: the friendly REPL does not answer
    vb.wait_output(">>> ", 5)
    rc, _, err = keep(capsys, "tasks", "--port", vb.url, "--timeout", "1")
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and "no answer" in lines[0] and "REPL" in lines[0]
