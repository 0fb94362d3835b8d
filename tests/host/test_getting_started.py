"""docs/getting-started.md does not drift from what the commands print.

The guide is docs/getting-started.in.md filled with the outputs of a real
run (docs/getting_started.py writes docs/getting-started.outputs.json).
Here: the guide is exactly that; the figures that do not depend on the run
(check results, heap estimates, how many files a deploy copies) are what
the commands say now; and the outputs that do depend on it (the demo's
summary, the export line, the monitor's lines, the task table) still have
the format the commands print now.
"""

import importlib.util
import json
import re

import pytest

from keep_host import cli
from keep_host.paths import ROOT
from vboard_app import fresh_board

spec = importlib.util.spec_from_file_location("getting_started", ROOT / "docs" / "getting_started.py")
gs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gs)
OUT = json.loads(gs.OUTPUTS.read_text())


def shape(line):
    """A line with its numbers (and the parts that follow from them) masked."""
    line = re.sub(r"socket://[\w.]+:\d+", "URL", line)
    return re.sub(r"\d+(\.\d+)?", "N", line)


def test_the_guide_is_the_template_filled_with_the_outputs():
    assert gs.DOC.read_text() == gs.render(OUT), \
        "docs/getting-started.md was edited by hand: edit the .in.md and run docs/getting_started.py"


def test_checks_print_what_the_guide_shows():
    now = {}
    gs.run_checks(now)
    for k, v in now.items():
        assert v == OUT[k], f"`{k}` drifted: run docs/getting_started.py\nnow:\n{v}\nguide:\n{OUT[k]}"
    assert "heap estimate" in OUT["check_pico"] and "chaos_esp32" in OUT["check_chaos_esp32"]


def test_check_and_deploy_counts(tmp_path, capsys):
    assert gs.shown("keep check chaos", gs.keep("check", "chaos")) == OUT["check_chaos"]
    with fresh_board(tmp_path) as (vb, _flash):
        assert cli.main(["deploy", "-p", vb.url, "--app", "chaos", "--no-progress"]) == 0
        first = capsys.readouterr().out.splitlines()[-1]
        assert cli.main(["deploy", "-p", vb.url, "--app", "chaos", "--no-progress"]) == 0
        second = capsys.readouterr().out.splitlines()[-1]
    assert re.search(r"(\d+) uploaded", first).group(1) == OUT["deploy_files"], first
    assert re.search(r"\d+ uploaded, \d+ up to date", second).group(0) == OUT["redeploy"]
    assert shape(first) == shape(OUT["deploy"].splitlines()[-1])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """(the demo's output, its recording): one short run for the format checks."""
    rec = tmp_path_factory.mktemp("demo") / "s.bin"
    return gs.keep("demo", "--seconds", "4", "--record", str(rec)), rec


def test_the_demo_summary_has_the_guides_lines(demo_run):
    def labels(text):
        summary = text[text.index("chaos demo:"):].splitlines()[1:]
        return [re.sub(r"[=\s].*", "", ln.strip()) if "=" in ln[:24] else ln[:24].strip()
                for ln in summary]

    assert labels(demo_run[0]) == labels(OUT["demo"])
    assert re.search(r"demo_peak_heap_bytes=\d+", OUT["demo"])
    assert str(round(int(re.search(r"demo_peak_heap_bytes=(\d+)", OUT["demo"]).group(1)) / 1024)) \
        == OUT["demo_heap_kb"]


def test_the_other_outputs_have_the_format_the_commands_print(demo_run, tmp_path):
    rec = demo_run[1]
    export = gs.keep("trace", "export", str(rec), "--to", "perfetto", "-o", str(tmp_path / "s.json"))
    assert shape(export.replace(str(tmp_path / "s.json"), "session.json")) == shape(OUT["export"])
    plain = gs.keep("monitor", "--replay", str(rec), "--plain").splitlines()
    kinds = {re.sub(r"^\[\s*[\d-]+ us\] \S+\s+(\S+).*", r"\1", ln) for ln in plain if ln.startswith("[")}
    for ln in OUT["monitor_events"].splitlines() + OUT["monitor_loop"].splitlines():
        m = re.match(r"^\[\s*[\d-]+ us\] \S+\s+(\S+)", ln)
        assert m and m.group(1) in kinds, ln
    assert len(OUT["monitor_loop"].splitlines()) == 4
    header = OUT["tasks"].splitlines()[1].split()
    assert header == ["SLOT", "NAME", "STATE", "PRIO", "GEN", "RESTARTS", "LAST", "FAULT"]


def test_development_md_says_how_to_run_one_firmware_test():
    """Its `-k` commands select that test (collected, not run: the tier's own
    run is `make test`), on the boards it says."""
    import shlex
    import subprocess
    import sys

    doc = (ROOT / "docs" / "development.md").read_text()
    cmds = re.findall(r"^\.venv/bin/python -m pytest (tests/firmware -k .*?)\s+#", doc, re.M)
    assert len(cmds) >= 3, cmds
    for cmd in cmds:
        argv = shlex.split(cmd)
        res = subprocess.run([sys.executable, "-m", "pytest", *argv, "--collect-only", "-q"],
                             cwd=ROOT, capture_output=True, text=True)
        ids = [ln for ln in res.stdout.splitlines() if "::" in ln]
        assert res.returncode == 0 and ids, res.stdout + res.stderr
        assert all("kernel_ipc" in i for i in ids), ids
        if "--virtual-boards unix" in cmd:
            assert all("rpi_pico" not in i for i in ids), ids
        if "rpi_pico" in cmd:
            assert all("rpi_pico" in i for i in ids), ids
