"""Deploy and redeploy: an unchanged tree copies nothing, a changed module is
the only upload, and the kernel boots after each."""

import shutil

from keep_host import paths


def test_redeploy_unchanged_copies_nothing(dut):
    m = dut.mark()
    res = dut.deploy()
    assert res.uploaded == [] and res.removed == [] and len(res.up_to_date) > 20
    dut.wait_event(kind="boot", since=m)
    dut.expect(r"hil: ready", since=m, timeout=5)


def test_changed_module_is_the_only_upload(dut, tmp_path):
    orig = dut.session.firmware  # None: the source tree (a real board's: a rendered copy)
    src = orig or paths.FIRMWARE
    fw = tmp_path / "firmware"
    shutil.copytree(src, fw, ignore=shutil.ignore_patterns("__pycache__", "*.bin"))
    mod = fw / "servers" / "gpio.py"
    mod.write_text(mod.read_text() + "\nHIL_REDEPLOY = 1\n")
    try:
        res = dut.deploy(firmware=fw)
        assert res.uploaded == ["servers/gpio.mpy"], res.uploaded
        dut.expect(r"hil: ready", timeout=5)
    finally:
        res = dut.deploy(firmware=orig)  # back to the tree the session started with
    assert res.uploaded == ["servers/gpio.mpy"], res.uploaded
