"""keep_host.fwboard's pieces that need no board: what a test's exchange
says back, what is deployed; and device.upload_many against the unix
virtual board, whose flash is a host directory to look at."""

import os

from vboard_app import HEAP

from keep_host import fwboard
from keep_host.device import upload_many
from keep_host.paths import ROOT
from keep_host.repl import RawRepl
from keep_host.vboard import VirtualBoard

M = fwboard._EXIT


def test_result_reads_the_exit_code_and_strips_the_marker():
    r = fwboard._result(f"a\r\nb\r\n{M} 0\r\n".encode(), b"")
    assert (r.output, r.returncode) == ("a\nb\n", 0)
    r = fwboard._result(f"FAIL: x\n{M} 1\n".encode(), b"")
    assert (r.output, r.returncode) == ("FAIL: x\n", 1)
    r = fwboard._result(f"SKIP no rig\n{M} None\n".encode(), b"")
    assert (r.output, r.returncode) == ("SKIP no rig\n", 0)
    r = fwboard._result(f"{M} why\n".encode(), b"")  # SystemExit("why"): printed, status 1
    assert (r.output, r.returncode) == ("why\n", 1)
    r = fwboard._result(f"x\n{M} 0\n".encode(), b"Traceback...\r\nValueError: v\r\n")
    assert (r.output, r.returncode) == ("x\nTraceback...\nValueError: v\n", 1)


def test_modules_are_the_firmware_less_the_simulator_the_helpers_and_the_tests():
    test = ROOT / "tests" / "firmware" / "kernel_ipc.py"
    mods = fwboard.modules([test])
    assert "keep/kernel.py" in mods and "servers/gpio.py" in mods and "hal/rp2.py" in mods
    assert "apps/blinky/main.py" in mods and "kt.py" in mods and "rig.py" in mods
    assert mods["kernel_ipc.py"] == test
    assert not [n for n in mods if n.startswith("hal/sim")]


def test_upload_many_writes_every_file_verified_in_few_exchanges(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    files = {f"d/f{i}.bin": os.urandom(100 + 300 * i) for i in range(12)}
    files["big.bin"] = os.urandom(3 * 6144 + 5)  # three exchanges and a bit
    files["empty.bin"] = b""
    with VirtualBoard(flash, heap=HEAP) as vb:
        vb.wait_output(">>> ", 10)
        with RawRepl(vb.url) as r:
            r.exec("import os\ntry:\n os.mkdir('d')\nexcept OSError:\n pass\n")
            exchanges = []
            real = r.exec
            r.exec = lambda code, timeout=None: exchanges.append(1) or real(code, timeout)
            done = upload_many(r, files)
    assert sorted(done) == sorted(files)
    for name, data in files.items():
        assert (flash / name).read_bytes() == data, name
    assert not list(flash.rglob("*.tmp"))
    assert len(exchanges) <= 1 + 9  # the helpers, then ~40 KB at 6 KB an exchange
