"""Property tests: any manifest gives a clean list of problems or a table the device imports."""

import ast
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keep_host import unixport
from keep_host.manifest import check_data, check_text
from keep_host.tomldata import Problem

SAMPLE_DIR = Path(__file__).parent / "data" / "apps" / "sample"

scalar = st.one_of(st.integers(-(1 << 40), 1 << 40), st.text(max_size=6), st.booleans(),
                   st.floats(allow_nan=True, allow_infinity=True))
anything = st.recursive(scalar, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text(max_size=4), kids, max_size=3), max_leaves=6)


def strategies(noise):
    """The manifest strategy: with noise, values are sometimes anything at all;
    without, they are plausible (still often wrong: clashes, bad grants...)."""

    def mostly(good, bad=anything):
        return st.one_of(good, good, good, bad) if noise else good

    def pick(valid, invalid):
        return st.sampled_from(valid + invalid) if noise else st.sampled_from(valid)

    task_names = pick(["gpio", "uart", "spi", "logger", "b2"], ["Bad-Name", "supervisor"])
    entries = pick(["tasks.servers:gpio", "tasks.servers:uart", "tasks.clients:blinky"],
                   ["tasks.servers:not_a_task", "tasks.nope:x", "nocolon", "a..b:c"])
    region = st.fixed_dictionaries(
        {"size": mostly(pick([256, 512, 1024], [300, 32, 100000]))},
        optional={"access": mostly(pick(["r", "rw"], ["w"]))})
    spi_claim = st.fixed_dictionaries({"bus": mostly(st.integers(0, 3)),
                                       "cs": mostly(st.integers(0, 40))})
    owns = st.fixed_dictionaries({}, optional={
        "pins": mostly(st.lists(st.integers(0, 40), max_size=3)),
        "uart": mostly(st.lists(st.integers(0, 3), max_size=2)),
        "spi": mostly(st.lists(spi_claim, max_size=2)),
        "i2c": mostly(st.lists(st.integers(0, 1), max_size=1))})
    task = st.fixed_dictionaries(
        {"entry": mostly(entries), "priority": mostly(st.integers(-1, 8) if noise
                                                      else st.integers(0, 7))},
        optional={
            "disposition": mostly(pick(["restart", "hold", "reboot"], ["retry"])),
            "server": mostly(st.booleans()),
            "regions": mostly(st.dictionaries(pick(["buf", "rx"], ["9x"]), region, max_size=3)),
            "budget": mostly(st.fixed_dictionaries({}, optional={
                "heap_bytes": mostly(st.integers(0, 70000 if noise else 4000)),
                "slice_ms": mostly(st.integers(0, 100))})),
            "owns": mostly(owns),
            "grants": mostly(st.dictionaries(task_names, st.integers(-1 if noise else 0, 70000),
                                             max_size=3 if noise else 1)),
            "args": mostly(st.dictionaries(st.text(max_size=4), anything, max_size=3)),
        })
    return st.fixed_dictionaries(
        {"name": mostly(pick(["app", "chaos"], ["Bad App"])),
         "board": mostly(pick(["unix", "rpi_pico", "esp32_devkitc"], ["nano"])),
         "tasks": mostly(st.dictionaries(task_names, task, min_size=1, max_size=4))},
        optional={
            "kernel": mostly(st.fixed_dictionaries({}, optional={
                "max_msg": mostly(st.integers(0 if noise else 1, 5000 if noise else 4096)),
                "trace_records": mostly(st.integers(0 if noise else 8, 70000 if noise else 512))})),
            "supervisor": mostly(st.fixed_dictionaries({}, optional={
                k: mostly(st.integers(-1 if noise else 1, 20000)) for k in
                ("flap_restarts", "flap_window_ms", "heartbeat_ms")})),
            **({"extra": anything} if noise else {}),
        })


manifest = strategies(noise=True)
plausible_manifest = strategies(noise=False)


def literal_module(text):
    """Every statement is NAME = <literal>, but for the row type: `from
    collections import namedtuple`, `Task = namedtuple("Task", <literal
    fields>)` and TASKS, a tuple of Task(field=<literal>, ...) with every
    field named once. Importing it runs no other code. TASKS comes back as
    plain tuples, field by field."""
    values = {}
    fields = None
    for node in ast.parse(text).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom):
            assert node.module == "collections" and [a.name for a in node.names] == ["namedtuple"]
            continue
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        name, v = node.targets[0].id, node.value
        if name == "Task":
            assert isinstance(v, ast.Call) and v.func.id == "namedtuple" and not v.keywords
            assert ast.literal_eval(v.args[0]) == "Task"
            fields = ast.literal_eval(v.args[1])
        elif name == "TASKS":
            assert isinstance(v, ast.Tuple) and fields is not None
            rows = []
            for call in v.elts:
                assert isinstance(call, ast.Call) and call.func.id == "Task" and not call.args
                assert [kw.arg for kw in call.keywords] == list(fields)
                rows.append(tuple(ast.literal_eval(kw.value) for kw in call.keywords))
            values[name] = tuple(rows)
        else:
            values[name] = ast.literal_eval(v)
    return values


def judge(data):
    """check_data's contract for one input; returns the table text or None."""
    report = check_data(data, app_dir=SAMPLE_DIR, roots=[])
    if report.problems:
        for p in report.problems:
            assert isinstance(p, Problem) and "\n" not in str(p)
        return None
    text = report.table()
    t = literal_module(text)
    assert t["TABLE_VERSION"] == 2 and t["TASKS"][0][0] == "supervisor"
    assert len(t["TASKS"]) == len(data["tasks"]) + 1
    for slot, row in enumerate(t["TASKS"]):
        assert len(row) == 12
        for peer, badge in row[7]:
            assert 0 < peer < len(t["TASKS"]) and peer != slot
            if badge == -1:
                continue  # a `notify` peer: notify only, any task but the supervisor
            assert 0 <= badge <= 0xFFFF
            assert t["TASKS"][peer][5] is True  # only servers are granted
            assert t["TASKS"][peer][3] <= row[3]  # never downhill
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(manifest, plausible_manifest))
def test_any_manifest_gives_problems_or_a_literal_table(data):
    judge(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_problems_not_a_crash(text):
    report = check_text(text, app_dir=SAMPLE_DIR, roots=[])
    assert report.problems or report.app.tasks


def test_accepted_tables_import_on_micropython(tmp_path):
    """Tables hypothesis finds acceptable are imported by the unix port, in one run."""
    tables = []

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(plausible_manifest)
    def collect(data):
        text = judge(data)
        if text is not None and len(tables) < 40:
            tables.append(text)

    collect()
    assert len(tables) >= 5, f"the strategy produced {len(tables)} valid manifests"
    for i, text in enumerate(tables):
        (tmp_path / f"t{i}.py").write_text(text)
    # One module at a time, forgotten after use: the board-sized heap holds
    # one table comfortably, not forty.
    probe = ("import gc, sys\n"
             f"for i in range({len(tables)}):\n"
             "    m = __import__('t%d' % i)\n"
             "    print(m.TABLE_VERSION, len(m.TASKS), m.TASKS[-1][0])\n"
             "    del sys.modules['t%d' % i], m\n"
             "    gc.collect()\n")
    res = unixport.run(["-c", probe], path=(tmp_path,), cwd=tmp_path, merge_stderr=True)
    assert res.returncode == 0, res.stdout
    got = res.stdout.splitlines()
    want = []
    for text in tables:
        t = literal_module(text)
        want.append(f"2 {len(t['TASKS'])} {t['TASKS'][-1][0]}")
    assert got == want


def test_floats_in_args_survive_the_round_trip():
    data = {"name": "f", "board": "unix",
            "tasks": {"uart": {"entry": "tasks.servers:uart", "priority": 1,
                               "args": {"x": 0.1, "y": -1e-300, "z": 1.5e300}}}}
    t = literal_module(judge(data))
    args = t["TASKS"][1][11]
    assert args == {"x": 0.1, "y": -1e-300, "z": 1.5e300} and not math.isinf(args["z"])
