"""App manifests: each rule's bad case names its key; the clean table imports on MicroPython."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keep_host import cli, unixport
from keep_host.errors import KeepError
from keep_host.manifest import ManifestError, check_app, check_text, compile_app

SAMPLE_DIR = Path(__file__).parent / "data" / "apps" / "sample"
SAMPLE = (SAMPLE_DIR / "app.toml").read_text()


def problems(text, board=None):
    return [str(p) for p in check_text(text, board=board, app_dir=SAMPLE_DIR, roots=[]).problems]


def variant(*pairs, board=None):
    text = SAMPLE
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return problems(text, board)


def test_sample_is_clean():
    r = check_app(SAMPLE_DIR)
    assert r.ok, [str(p) for p in r.problems]
    assert r.summary().startswith("ok: 5 tasks, 3 grants, 4 regions (1280 bytes), heap estimate")
    assert [t.slot for t in r.app.tasks] == [1, 2, 3, 4, 5]


BLINKY_GRANTS = "grants = { gpio = 1 }"
CASES = [
    # (replacements, expected problem line, or a fragment of it)
    ([(BLINKY_GRANTS, "grants = { gpoi = 1 }")],
     'tasks.blinky.grants.gpoi: unknown peer "gpoi" (did you mean "gpio"?)'),
    ([('disposition = "hold"', 'dispositon = "hold"')],
     'tasks.logger.dispositon: unknown key (did you mean "disposition"?)'),
    ([("priority = 4", 'priority = "low"')],
     "tasks.blinky.priority: must be an integer, not a string"),
    ([("priority = 4", "priority = 9")], "tasks.blinky.priority: 9 is out of range 0..7"),
    ([('disposition = "hold"', 'disposition = "retry"')],
     'tasks.logger.disposition: "retry" is not one of "restart", "hold", "reboot"'),
    ([('entry = "tasks.clients:blinky"', 'entry = "tasks.nope:blinky"')],
     'tasks.blinky.entry: module "tasks.nope" not found under'),
    ([('entry = "tasks.clients:blinky"', 'entry = "tasks.clients:blink"')],
     'tasks.blinky.entry: no top-level "async def blink" in'),
    ([('entry = "tasks.servers:gpio"', 'entry = "tasks.servers:not_a_task"')],
     'tasks.gpio.entry: "not_a_task" in servers.py is a plain def'),
    ([('entry = "tasks.clients:blinky"', 'entry = "blinky"')],
     'tasks.blinky.entry: "blinky" must look like "package.module:function"'),
    ([("args = { pin = 2 }", "args = { pin = 2 }\nowns = { pins = [2] }")],
     'tasks.blinky.owns.pins: pin 2 is already claimed by task "gpio" (pin 2)'),
    ([("pins = [2, 14, 15]", "pins = [2, 14, 99]")],
     "tasks.gpio.owns.pins: pin 99 does not exist on unix (usable: 0-31)"),
    ([("uart = [1]", "uart = [7]")], "tasks.uart.owns.uart: uart 7 does not exist on unix"),
    ([("uart = [1]", "uart = [0]")], "tasks.uart.owns.uart: uart 0 is the console on unix"),
    ([("args = { pin = 2 }", "args = { pin = 2 }\nowns = { spi = [ { bus = 1, cs = 6 } ] }")],
     'tasks.blinky.owns.spi: spi bus 1 is already claimed by task "spi"'),
    ([("{ bus = 1, cs = 5 }", "{ bus = 1, cs = 5 }, { bus = 1, cs = 5 }")],
     'tasks.spi.owns.spi: spi 1 cs 5 is already claimed by task "spi"'),
    ([("{ bus = 1, cs = 5 }", "{ bus = 1, cs = 18 }")],
     "tasks.spi.owns.spi: chip select pin 18 is one of spi 1's bus pins"),
    ([("{ bus = 1, cs = 5 }", "{ bus = 3, cs = 5 }")],
     "tasks.spi.owns.spi: spi bus 3 does not exist on unix"),
    ([("page = { size = 256 }", "page = { size = 300 }")],
     "tasks.spi.regions.page.size: 300 bytes is not a power of two (this MPU needs one; try 512)"),
    ([("page = { size = 256 }", "page = { size = 128 }")],
     "tasks.spi.regions.page.size: 128 bytes is below the MPU minimum of 256"),
    ([('access = "r" }', 'access = "x" }')],
     'tasks.logger.regions.cfg.access: "x" is not one of "r", "rw"'),
    ([("page = { size = 256 }", "page = { size = 256 }, " + ", ".join(
        f"r{i} = {{ size = 256 }}" for i in range(8)))],
     "tasks.spi.regions: 9 regions; the sim MPU rules of unix allow 8 per task"),
    ([("heap_bytes = 1024", "heap_bytes = 200000")],
     "tasks: needs about"),
    ([("priority = 2", "priority = 5")],
     'tasks.logger.grants.spi: downhill send: "logger" (priority 3) is granted "spi" '
     "(priority 5), a less important server"),
    ([(BLINKY_GRANTS, "grants = { logger = 1 }")],
     'tasks.blinky.grants.logger: "logger" is not a server'),
    ([(BLINKY_GRANTS, "grants = { blinky = 1 }")],
     "tasks.blinky.grants.blinky: a task cannot send to itself"),
    ([(BLINKY_GRANTS, "grants = { gpio = 70000 }")],
     "tasks.blinky.grants.gpio: badge 70000 is out of range 0..65535"),
    ([("priority = 2", "priority = 1\ngrants = { uart = 1 }"),
      ("owns = { uart = [1] }", "owns = { uart = [1] }\ngrants = { spi = 1 }")],
     "tasks.uart.grants: send cycle uart -> spi -> uart (possible deadlock"),
    ([("backoff_max_ms = 2000", "backoff_max_ms = 5")],
     "supervisor.backoff_max_ms: 5 is less than backoff_ms (10)"),
    ([('board = "unix"', 'board = "nano"')], 'board: unknown board "nano" (known boards:'),
    ([("args = { pin = 2 }", "args = { pin = 2, when = 1979-05-27 }")],
     "tasks.blinky.args.when: dates and times are not supported in args"),
    ([("args = { pin = 2 }", "args = { pin = inf }")],
     "tasks.blinky.args.pin: inf is not a finite number"),
    ([("args = { pin = 2 }", "args = { pin = 4294967296 }")],
     "tasks.blinky.args.pin: 4294967296 does not fit in 32 bits"),
    ([("[tasks.blinky]", "[tasks.supervisor]")],
     'tasks.supervisor: "supervisor" is reserved'),
    ([("[tasks.blinky]", "[tasks.console]")],
     'tasks.console: "console" is reserved'),
    ([("[tasks.blinky]", "[tasks.Blinky]")], 'tasks.Blinky: "Blinky" is not a valid task name'),
    ([("max_msg = 64", "max_msg = 0")], "kernel.max_msg: 0 is out of range 1..4096"),
    ([(BLINKY_GRANTS, BLINKY_GRANTS + '\nnotify = ["loger"]')],
     'tasks.blinky.notify: unknown peer "loger" (did you mean "logger"?)'),
    ([(BLINKY_GRANTS, BLINKY_GRANTS + '\nnotify = ["supervisor"]')],
     "tasks.blinky.notify: the supervisor's notification bits are the kernel's"),
    ([(BLINKY_GRANTS, BLINKY_GRANTS + "\nnotify = [3]")],
     "tasks.blinky.notify: must list task names, not 3"),
    ([(BLINKY_GRANTS, BLINKY_GRANTS + '\nnotify = "logger"')],
     "tasks.blinky.notify: must be an array"),
]


@pytest.mark.parametrize("pairs,want", CASES, ids=[c[1][:40] for c in CASES])
def test_each_rule_names_the_key(pairs, want):
    got = variant(*pairs)
    assert any(p.startswith(want) for p in got), got
    assert all("\n" not in p for p in got)


def test_notify_peers_become_notify_only_grants():
    """`notify` adds (slot, -1) to the task's grants in the device table,
    unless it may send to that peer anyway (a send grant lets it notify)."""
    text = SAMPLE.replace(BLINKY_GRANTS, BLINKY_GRANTS + '\nnotify = ["logger", "gpio"]', 1)
    r = check_text(text, app_dir=SAMPLE_DIR, roots=[])
    assert r.ok, [str(p) for p in r.problems]
    slots = {t.name: t.slot for t in r.app.tasks}
    ns = {}
    exec(r.table(), ns)  # plain literals (CPython reads them as MicroPython does)
    row = ns["TASKS"][slots["blinky"]]
    assert row[7] == tuple(sorted(((slots["gpio"], 1), (slots["logger"], -1))))
    assert r.summary().startswith("ok: 5 tasks, 3 grants")  # notify peers are not send grants


def test_cycle_between_equal_priority_servers_is_the_only_problem():
    got = variant(("priority = 2", "priority = 1\ngrants = { uart = 1 }"),
                  ("owns = { uart = [1] }", "owns = { uart = [1] }\ngrants = { spi = 1 }"))
    assert len(got) == 1, got


def test_too_many_tasks_for_the_board():
    extra = "".join(f'\n[tasks.t{i}]\nentry = "tasks.clients:blinky"\npriority = 5\n'
                    for i in range(11))
    got = problems(SAMPLE + extra)
    assert "tasks: 16 tasks, the supervisor and the console task need 18 slots; unix has 16" in got


def test_syntax_error_reports_the_line():
    text = SAMPLE.replace("priority = 4", "priority = ", 1)
    line = 1 + text[:text.index("priority = \n")].count("\n")
    got = problems(text)
    assert len(got) == 1 and got[0].startswith("app.toml: TOML syntax error")
    assert f"line {line}" in got[0]


def test_board_override_changes_the_rules():
    # On the ESP32 the HSPI bus (1) uses pin 14, which the gpio server owns,
    # and 300-byte regions are fine (no power-of-two rule there).
    got = variant(("page = { size = 256 }", "page = { size = 300 }"), board="esp32_devkitc")
    assert got == ['tasks.spi.owns.spi: pin 14 (spi 1 sck) is already claimed by task "gpio" '
                   "(pin 14)"]


def test_unknown_board_override():
    got = problems(SAMPLE, board="nano")
    assert got and got[0].startswith('--board: unknown board "nano"')


def test_unknown_app_is_one_line():
    with pytest.raises(KeepError) as e:
        check_app("no_such_app")
    assert 'unknown app "no_such_app"' in str(e.value)


def test_compile_refuses_bad_manifest(tmp_path):
    bad = tmp_path / "app.toml"
    bad.write_text(SAMPLE.replace("priority = 4", "priority = 9"))
    with pytest.raises(ManifestError) as e:
        compile_app(bad, roots=[SAMPLE_DIR])
    assert "tasks.blinky.priority" in str(e.value)


def test_table_is_deterministic():
    assert compile_app(SAMPLE_DIR) == compile_app(SAMPLE_DIR)


def test_table_imports_on_micropython(tmp_path):
    """The compiled table is plain literals the unix port imports as-is; its
    rows are namedtuples, read by field name and still tuples."""
    (tmp_path / "app_table.py").write_text(compile_app(SAMPLE_DIR))
    probe = (
        "import app_table as t\n"
        "print(t.TABLE_VERSION, t.ABI_VERSION, t.APP, t.BOARD, t.HAL, t.MAX_MSG, t.TRACE_RECORDS)\n"
        "print(t.SUPERVISOR)\n"
        "print(len(t.TASKS), [x[0] for x in t.TASKS])\n"
        "for x in t.TASKS[3:5]: print(x)\n"
        "x = t.TASKS[4]\n"
        "print(x.module, x.grants, x.heap_budget, isinstance(x, tuple), x[2] == x.function)\n"
    )
    res = unixport.run(["-c", probe], path=(tmp_path,), cwd=tmp_path, merge_stderr=True)
    assert res.returncode == 0, res.stdout
    lines = res.stdout.splitlines()
    assert lines[0] == "2 1 sample unix sim 64 256"
    assert lines[1] == "(5, 10000, 10, 2000, 500)"
    assert lines[2] == "6 ['supervisor', 'gpio', 'uart', 'spi', 'logger', 'blinky']"
    # spi: slot 3; logger: slot 4, granted spi (slot 3, badge 7) and uart (slot 2, badge 2)
    assert lines[3].startswith("Task(name='spi', module='tasks.servers', function='spi', priority=2, "
                               "disposition=0, server=True, regions=(('page', 256, True),), grants=()")
    assert "owns={'spi': ((1, 5),)}" in lines[3] and ", heap_budget=1024, slice_ms=20, args={})" \
        in lines[3]
    assert lines[4].startswith("Task(name='logger', module='tasks.clients', function='logger', "
                               "priority=3, disposition=1, server=False, "
                               "regions=(('buf', 512, True), ('cfg', 256, False)), "
                               "grants=((2, 2), (3, 7)), ")
    for frag in ("'period_ms': 250", "'levels': (1, 2, 3)", "'gain': 0.5", "'verbose': True"):
        assert frag in lines[4]
    assert lines[5].startswith("tasks.clients ((2, 2), (3, 7)) ") and lines[5].endswith(" True True")


def test_keep_check_cli_clean(capsys, tmp_path):
    out_file = tmp_path / "t.py"
    assert cli.main(["check", str(SAMPLE_DIR), "--table", str(out_file)]) == 0
    assert capsys.readouterr().out.startswith("ok: 5 tasks")
    assert "TASKS = (" in out_file.read_text()


def test_keep_check_cli_problems_one_per_line(tmp_path):
    shutil.copytree(SAMPLE_DIR, tmp_path / "app")
    bad = tmp_path / "app" / "app.toml"
    bad.write_text(SAMPLE.replace(BLINKY_GRANTS, "grants = { gpoi = 1 }")
                   .replace("priority = 4", "priority = -1"))
    res = subprocess.run([sys.executable, "-m", "keep_host", "check", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert res.stdout.splitlines() == [
        "tasks.blinky.priority: -1 is out of range 0..7",
        'tasks.blinky.grants.gpoi: unknown peer "gpoi" (did you mean "gpio"?)',
    ]
    assert "2 problems" in res.stderr


def test_keep_check_unknown_app_exit_code():
    res = subprocess.run([sys.executable, "-m", "keep_host", "check", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1
