"""Stock clients through the virtual board get what the unix binary prints
when run directly, as a board would send it (issue 14).

The same traffic goes through both consoles (socket:// and a pty): stock
mpremote (run, exec, eval, fs cp, soft-reset) and ampy's copy of
pyboard.py, the protocol MicroPython's run-tests.py board mode speaks. The
reference is the unix binary run directly on the same script; a board
sends its lines with CR LF where the binary prints LF, and nothing else
may differ: not a byte lost from tens of KB of output read slowly, not a
line added by a script saved with CRLF line endings, not a crash from a
Ctrl-C that lands right after `raise SystemExit`.
"""

import hashlib
import subprocess

import pytest
import serial

from keep_host import unixport
from keep_host.paths import venv_bin
from keep_host.vboard import VirtualBoard

MPREMOTE = str(venv_bin("mpremote"))

# Saved with CRLF line endings (as an editor on Windows would): a board's
# lexer reads CR LF as one line end, also inside the triple-quoted string
# and after the backslash. 3,000 numbered lines make ~90 KB of output.
SCRIPT = (
    "import sys\r\n"
    "text = '''one\r\n"
    "two'''\r\n"
    "total = 1 + \\\r\n"
    "    2\r\n"
    "print(text, total, sys.platform)\r\n"
    "for i in range(3000):\r\n"
    "    print('%05d' % i, 'x' * 24)\r\n"
    "print('end')\r\n"
)


def as_a_board_sends(unix_stdout):
    """What a board prints for the unix binary's output: print() ends its
    lines with CR LF (mp_hal_stdout_tx_strn_cooked)."""
    assert b"\r" not in unix_stdout  # the scripts here print no CR of their own
    return unix_stdout.replace(b"\n", b"\r\n")


def unix_binary(tmp_path, source):
    script = tmp_path / "direct.py"
    script.write_bytes(source.encode() if isinstance(source, str) else source)
    res = subprocess.run([unixport.micropython_exe(), "-X", "heapsize=192K", str(script)],
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def mpremote(url, *args, timeout=60):
    res = subprocess.run([MPREMOTE, "connect", url, *args], capture_output=True,
                         timeout=timeout)
    assert res.returncode == 0, f"mpremote {args}: {res.stdout!r}\n{res.stderr!r}"
    return res.stdout


@pytest.fixture(scope="module", params=["socket", "pty"])
def vb(request, tmp_path_factory):
    flash = tmp_path_factory.mktemp(f"clients-{request.param}")
    with VirtualBoard(flash, pty=request.param == "pty") as board:
        board.wait_output(">>> ", 10)
        yield board
    assert board.crashes == 0, board.events


@pytest.fixture
def pyboard(vb, monkeypatch):
    """ampy's pyboard.py, stock. It opens ports with serial.Serial, which
    takes no socket:// URL: pyserial's serial_for_url opens those."""
    from ampy.pyboard import Pyboard

    plain = serial.Serial
    monkeypatch.setattr(serial, "Serial", lambda port, *a, **kw: (
        serial.serial_for_url(port, *a, **kw) if "://" in port else plain(port, *a, **kw)))
    pyb = Pyboard(vb.url)
    yield pyb
    pyb.close()


def test_mpremote_run_of_a_crlf_script_with_large_output(vb, tmp_path):
    script = tmp_path / "crlf.py"
    script.write_bytes(SCRIPT.encode())
    direct = unix_binary(tmp_path, SCRIPT)
    assert direct.startswith(b"one\ntwo 3 linux\n00000 ") and direct.endswith(b"02999 " + b"x" * 24 + b"\nend\n")
    assert mpremote(vb.url, "run", str(script)) == as_a_board_sends(direct)


def test_mpremote_exec_eval_fs_cp_and_soft_reset(vb, tmp_path):
    code = "import sys\nprint('exec', sys.implementation.name, 6 * 7)\nprint([1, 2], end='|')"
    assert mpremote(vb.url, "exec", code) == as_a_board_sends(unix_binary(tmp_path, code))
    assert mpremote(vb.url, "eval", "1 + 2") == b"3\r\n"
    payload = bytes(range(256)) * 40 + b"\r\n\n\r\x03\x04 end"   # line ends and Ctrl keys too
    src, back = tmp_path / "data.bin", tmp_path / "back.bin"
    src.write_bytes(payload)
    mpremote(vb.url, "fs", "cp", str(src), ":data.bin")
    assert (vb.flash_dir / "data.bin").read_bytes() == payload
    mpremote(vb.url, "fs", "cp", ":data.bin", str(back))
    assert back.read_bytes() == payload
    mpremote(vb.url, "exec", "KEEPME = 5")
    assert mpremote(vb.url, "resume", "eval", "KEEPME") == b"5\r\n"
    reboots = vb.soft_reboots
    mpremote(vb.url, "soft-reset")
    assert vb.soft_reboots == reboots + 1
    assert mpremote(vb.url, "resume", "eval", "'KEEPME' in globals()") == b"False\r\n"


def test_pyboard_system_exit_then_ctrl_c_is_harmless(vb, pyboard, tmp_path):
    # run-tests.py's way with a test that skips itself: the test raises
    # SystemExit (the board soft-resets) and the next test's raw-REPL entry
    # sends Ctrl-C at once, into the reset. On the unix port that Ctrl-C
    # was a SIGINT with no handler left: the process died.
    code = "print('SKIP')\nraise SystemExit"
    assert unix_binary(tmp_path, code) == b"SKIP\n"
    crashes = vb.crashes
    for _ in range(3):
        pyboard.enter_raw_repl()
        assert pyboard.exec_(code) == b"SKIP\r\n"
    pyboard.enter_raw_repl()
    assert pyboard.exec_("print('next', 1 + 1)") == b"next 2\r\n"
    assert vb.crashes == crashes


def test_pyboard_ctrl_c_interrupts_running_code_only(vb, pyboard):
    pyboard.enter_raw_repl()
    pyboard.exec_raw_no_follow("import time\nprint('spinning')\nwhile True:\n    time.sleep_ms(1)")
    assert pyboard.read_until(1, b"spinning\r\n").endswith(b"spinning\r\n")
    pyboard.serial.write(b"\x03")
    out, err = pyboard.follow(timeout=10)
    assert b"KeyboardInterrupt" in err
    # At the raw REPL a Ctrl-C is just a byte (it clears the line): no signal.
    pyboard.serial.write(b"\x03")
    assert pyboard.exec_("print('still here')") == b"still here\r\n"


def test_slow_reader_loses_nothing(vb, pyboard):
    # A client that reads in small bites: the board waits for it (a USB
    # link's back-pressure) instead of dropping what does not fit.
    pyboard.enter_raw_repl()
    dropped = vb.dropped  # (output with no client connected is dropped, as by a USB port)
    pyboard.exec_raw_no_follow("for i in range(2500):\n    print('%05d' % i, 'y' * 40)")
    got = bytearray()
    port = pyboard.serial
    port.timeout = 0.05  # ampy opens it blocking; a short bite keeps this reader slow
    quiet = 0
    while not got.endswith(b"\x04\x04>"):  # end of output, no error, the prompt
        chunk = port.read(512)
        quiet = 0 if chunk else quiet + 1
        assert quiet < 200, f"nothing for 10 s after {len(got)} bytes: {bytes(got[-20:])!r}"
        got += chunk
    lines = bytes(got).split(b"\x04")[0].split(b"\r\n")
    assert lines[:2] == [b"00000 " + b"y" * 40, b"00001 " + b"y" * 40]  # (ampy read the OK)
    assert lines[-2] == b"02499 " + b"y" * 40 and len(lines) == 2501
    assert vb.dropped == dropped


def test_friendly_repl_takes_crlf_as_one_line_end(vb):
    mark = vb.mark()
    vb.write(b"\x02")  # the friendly REPL (its banner), wherever the last test left it
    mark = vb.wait_output(b'for more information.\r\n>>> ', 10, since=mark)
    vb.write(b"x = 6\r\nprint(x * 7)\r\n")
    end = vb.wait_output(b"42\r\n>>> ", 10, since=mark)
    typed = vb.output_since(mark)[: end - mark]
    assert typed.count(b">>> ") == 2, typed  # a second CR would add an empty prompt


def test_boot_leaves_no_names_behind(vb):
    # A board's boot is C: the REPL starts with no globals and no qstrs of
    # its own. The virtual board's boot code adds none either (the
    # `_keep_*` names it used once stayed in micropython.qstr_info()).
    out = mpremote(vb.url, "exec", "import micropython\nmicropython.qstr_info(1)\n"
                   "print(sorted(globals()))").decode().splitlines()
    # -c: sys.argv[0], also when the binary runs -c directly; boot.py and
    # main.py: the files the boot looks for (a board has both in ROM)
    assert [ln for ln in out if ln.startswith("Q(")] == ["Q(-c)", "Q(boot.py)", "Q(main.py)"], out
    assert out[-1] == "['__file__', '__name__', 'micropython']"  # __file__ = '<stdin>', the exec


def test_mpremote_mount_reads_and_with_no_crlf_writes(tmp_path):
    # mpremote mount's board side writes binary to sys.stdout.buffer, which
    # a board sends as it is; on the unix port it meets print() in one
    # stream, so CR LF (the default) would damage it: crlf=False is for that.
    shared = tmp_path / "shared"
    shared.mkdir()
    blob = bytes(range(256)) * 8
    (shared / "in.bin").write_bytes(blob)
    code = ("import hashlib, binascii\n"
            "print(binascii.hexlify(hashlib.sha256(open('in.bin', 'rb').read()).digest()))\n"
            "f = open('out.bin', 'wb'); f.write(open('in.bin', 'rb').read()); f.close()")
    with VirtualBoard(tmp_path / "flash", crlf=False) as board:
        out = mpremote(board.url, "mount", str(shared), "exec", code)
    assert hashlib.sha256(blob).hexdigest().encode() in out
    assert (shared / "out.bin").read_bytes() == blob
