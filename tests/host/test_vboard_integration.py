"""A real virtual board (the unix port) driven by the real mpremote and ampy.

Every test starts real MicroPython processes; the whole file runs in well
under a minute. No fakes here: what passes here works for a user.
"""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from keep_host.paths import venv_bin
from keep_host.repl import RawRepl, ReplExecError
from keep_host.vboard import VBoardProcess, VirtualBoard

MPREMOTE = str(venv_bin("mpremote"))
AMPY = str(venv_bin("ampy"))


def mpremote(url, *args, timeout=20):
    res = subprocess.run([MPREMOTE, "connect", url, *args], capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, f"mpremote {args}: {res.stdout}\n{res.stderr}"
    return res.stdout


def processes_in(flash):
    """pids of processes whose cwd is the flash dir (MicroPython children)."""
    flash = str(Path(flash).resolve())
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if os.readlink(p / "cwd") == flash:
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    flash = tmp_path_factory.mktemp("flash")
    (flash / "main.py").write_text("print('main ran')\nAPP_STATE = 7\n")
    (flash / "lib").mkdir()
    (flash / "lib" / "helper.py").write_text("VALUE = 'from lib'\n")
    with VirtualBoard(flash, heap="64K") as vb:
        yield vb
    assert processes_in(flash) == [], "a MicroPython process outlived stop()"


# ---- stock mpremote over socket:// ---------------------------------------------

def test_boots_main_py_and_repl_shares_its_globals(board):
    board.wait_output("main ran", 5)
    board.wait_output(">>> ", 5)
    mark = board.mark()
    board.write(b"print(APP_STATE * 6)\r")
    board.wait_output("42", 5, since=mark)


def test_mpremote_exec_eval_sees_flash_as_root_and_env(board):
    out = mpremote(board.url, "exec",
                   "import os, sys; print(sorted(os.listdir('/')), os.getcwd(), sys.path)")
    assert "['lib', 'main.py'] / ['', '.frozen', '/lib']" in out
    assert mpremote(board.url, "eval", "__import__('helper').VALUE").strip() == "from lib"
    env = mpremote(board.url, "exec",
                   "import os; print(os.getenv('KEEP_BOARD'), os.getenv('KEEP_SIM_CTL_PORT'))")
    assert env.split() == ["unix", str(board.sim_ctl_port)]


def test_mpremote_fs_cp_both_ways_ls_rm(board, tmp_path):
    src = tmp_path / "data.bin"
    payload = bytes(range(256)) * 8 + b"\r\n\x03\x04 end"
    src.write_bytes(payload)
    mpremote(board.url, "fs", "cp", str(src), ":data.bin")
    assert (board.flash_dir / "data.bin").read_bytes() == payload
    ls = mpremote(board.url, "fs", "ls")
    assert "data.bin" in ls.split()  # sizes read 0: the unix VfsPosix ilistdir has none
    back = tmp_path / "back.bin"
    mpremote(board.url, "fs", "cp", ":data.bin", str(back))
    assert back.read_bytes() == payload
    mpremote(board.url, "fs", "rm", ":data.bin")
    assert not (board.flash_dir / "data.bin").exists()


def test_mpremote_run_soft_reset_resume(board, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint('ran on', sys.platform)\n")
    assert "ran on linux" in mpremote(board.url, "run", str(script))
    mark = board.mark()
    mpremote(board.url, "exec", "KEEPME = 5")   # auto soft-reset first, then exec
    # resume: no soft reset, so state from the previous session survives
    assert mpremote(board.url, "resume", "eval", "KEEPME").strip() == "5"
    reboots = board.soft_reboots
    mpremote(board.url, "soft-reset")
    assert board.soft_reboots == reboots + 1
    assert b"MPY: soft reboot\r\n" in board.output_since(mark)
    out = mpremote(board.url, "resume", "exec", "print('KEEPME' in globals())")
    assert out.strip() == "False"


def test_machine_soft_reset_and_friendly_ctrl_d_reboot_like_a_board(board):
    mark = board.mark()
    board.write(b"\x02")  # friendly REPL (mpremote left us in raw or friendly)
    board.wait_output(">>> ", 5, since=mark)
    before = board.soft_reboots
    mark = board.mark()
    board.write(b"\x04")
    board.wait_output(b"MPY: soft reboot\r\n", 5, since=mark)
    board.wait_output("main ran", 5, since=mark)        # main.py runs again
    board.wait_output(">>> ", 5, since=mark)
    mark = board.mark()
    board.write(b"import machine; machine.soft_reset()\r")
    board.wait_output("main ran", 5, since=mark)
    assert board.soft_reboots == before + 2


def test_crash_is_restarted_and_reported(board):
    crashes = board.crashes
    board.wait_output(">>> ", 5, since=max(0, board.mark() - 10))
    pid = board._proc.pid
    mark = board.mark()
    os.kill(pid, signal.SIGSEGV)
    board.wait_output("main ran", 5, since=mark)
    assert board.crashes == crashes + 1
    assert any(kind == "crash" and "SIGSEGV" in msg for _, kind, msg in board.events)
    assert board._proc.pid != pid
    assert "ok" in mpremote(board.url, "exec", "print('ok')")


# ---- Ctrl-C, safe boot -------------------------------------------------------------

LOOP_APP = "import time\nprint('APP up')\nwhile True:\n    time.sleep_ms(5)\n"


def test_ctrl_c_interrupts_a_running_main_py(tmp_path):
    (tmp_path / "main.py").write_text(LOOP_APP)
    with VirtualBoard(tmp_path) as vb:
        vb.wait_output("APP up", 5)
        mark = vb.mark()
        vb.write(b"\x03")
        vb.wait_output("KeyboardInterrupt", 5, since=mark)
        vb.wait_output(">>> ", 5, since=mark)
        # and mpremote gets in while the app is running (after a reset)
        vb.reset()
        vb.wait_output("APP up", 5, since=mark)
        assert "hi" in mpremote(vb.url, "exec", "print('hi')")


def test_safe_boot_by_file_by_request_and_by_ctrl_c_flood(tmp_path):
    # An app that resets the board forever: without safe boot it never stops.
    (tmp_path / "main.py").write_text("import machine\nprint('APP')\nmachine.soft_reset()\n")
    with VirtualBoard(tmp_path) as vb:
        vb.wait_output("APP", 5)
        time.sleep(0.3)
        assert vb.soft_reboots >= 2                        # it really is a reset loop
        mark = vb.mark()
        vb.write(b"\x03" * 4)                               # the Ctrl-C flood
        vb.wait_output("safe boot, main.py skipped", 5, since=mark)
        mark = vb.wait_output(">>> ", 5, since=mark)
        time.sleep(0.3)
        assert b"APP" not in vb.output_since(mark)          # the loop is over
        assert vb.safe_boots == 1
        vb.reset(safe=True)                                 # the API request
        assert vb.safe_boots == 2
        (tmp_path / "SAFEBOOT").write_text("")              # the file
        mark = vb.mark()
        vb.reset()
        vb.wait_output(">>> ", 5, since=mark)
        assert b"APP" not in vb.output_since(mark) and vb.safe_boots == 3
        (tmp_path / "SAFEBOOT").unlink()
        mark = vb.mark()
        vb.reset()
        vb.wait_output("APP", 5, since=mark)


# ---- pty mode: mpremote and ampy --------------------------------------------------

def test_pty_mode_mpremote_and_ampy(tmp_path):
    (tmp_path / "main.py").write_text(LOOP_APP)
    with VirtualBoard(tmp_path, pty=True) as vb:
        assert vb.url.startswith("/dev/")
        vb.wait_output("APP up", 5)
        assert "3" in mpremote(vb.url, "eval", "1+2")
        src = tmp_path.parent / "put_me.py"
        src.write_text("PUT = 1\n")
        res = subprocess.run([AMPY, "--port", vb.url, "put", str(src)],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        assert (tmp_path / "put_me.py").read_text() == "PUT = 1\n"
        res = subprocess.run([AMPY, "--port", vb.url, "ls"],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        assert "/put_me.py" in res.stdout.split() and "/main.py" in res.stdout.split()


# ---- link faults ---------------------------------------------------------------------

def test_link_faults_damage_only_what_the_host_receives(tmp_path):
    with VirtualBoard(tmp_path, link_faults="drop=0.02,flip=0.02,dup=0.02", seed=3) as vb:
        host, port = vb.url[len("socket://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            time.sleep(0.2)
            mark = vb.mark()
            s.sendall(b"print('0123456789' * 300)\r")
            end = vb.wait_output(">>> ", 5, since=mark)
            got = bytearray()
            s.settimeout(0.5)
            try:
                while len(got) < 4000:
                    got += s.recv(65536)
            except socket.timeout:
                pass
        sent = vb.output_since(mark)[: end - mark]
        assert b"0123456789" * 300 in sent                  # the tap is clean
        c = vb.faults.counts
        assert c["drop"] and c["flip"] and c["dup"]
        assert bytes(got) != sent and abs(len(got) - len(sent)) < len(sent) // 5


# ---- the hardened raw-REPL helper -----------------------------------------------------

def test_raw_repl_helper_gets_past_a_stubborn_app_and_copies_verified(tmp_path):
    # The app swallows the first Ctrl-C, which stock mpremote gives up after.
    # (One that swallows every Ctrl-C keeps a board busy too: safe boot is
    # for that. This one swallowed all, once: it got past only because the
    # unix port dies of a second SIGINT before the first is handled.)
    (tmp_path / "main.py").write_text(
        "import time\nprint('APP up')\ntry:\n    while True:\n        time.sleep_ms(5)\n"
        "except KeyboardInterrupt:\n    print('ignored')\nwhile True:\n    time.sleep_ms(5)\n")
    with VirtualBoard(tmp_path) as vb:
        vb.wait_output("APP up", 5)
        with RawRepl(vb.url, timeout=9) as r:
            data = bytes(range(256)) * 10
            assert r.put("lib_x.bin", data) == len(data)
            assert r.get("lib_x.bin") == data
            assert (tmp_path / "lib_x.bin").read_bytes() == data
            assert not (tmp_path / "lib_x.bin.tmp").exists()
            assert r.eval("1 + 1") == 2
            with pytest.raises(ReplExecError, match="ZeroDivisionError"):
                r.exec("1/0")
            r.soft_reset()
            assert r.eval("'APP_STATE' in globals()") is False


def test_raw_repl_helper_reports_a_dead_port_in_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from keep_host.errors import KeepError
    with pytest.raises(KeepError) as e:
        RawRepl(f"socket://127.0.0.1:{port}").open()
    assert "cannot open" in str(e.value) and "\n" not in str(e.value)


# ---- the keep vboard command -------------------------------------------------------------

def test_keep_vboard_command_prints_url_first_and_stops_clean(tmp_path):
    flash = tmp_path / "new" / "flash"                      # missing: created
    with VBoardProcess(["--flash", str(flash), "--heap", "64K"]) as vp:
        assert vp.url.startswith("socket://127.0.0.1:")
        assert vp.info["flash"] == str(flash.resolve())
        assert isinstance(vp.info["sim_ctl_port"], int)
        assert "7" in mpremote(vp.url, "eval", "3+4")
        assert processes_in(flash)                           # the board is running
        rc = vp.stop()
    assert rc == 0
    assert "Traceback" not in "\n".join(vp.stderr_lines)
    # the boot banner went out before mpremote connected: dropped, and said so
    assert re.search(r"stopped; [1-9]\d* bytes of console output dropped while no client",
                     vp.stderr_lines[-1]), vp.stderr_lines
    assert processes_in(flash) == []
