"""The monolithic build (`keep deploy --monolithic`, clients/direct.py,
docs/tradeoff.md): its table, and every stock app deployed that way to the
unix virtual board and run, the drivers in the apps' tasks.

The same apps on the emulated Pico: tests/firmware/mono_apps.py runs there
too (the driver code in the caller's task on the rp2 firmware), and
bench/tradeoff.py deploys the monolithic build to it.
"""

import pytest

from keep_host import paths
from keep_host.demo import run_demo
from keep_host.manifest import check_app

STOCK = sorted(d.name for d in paths.APPS.iterdir() if (d / "app.toml").is_file())


def table(app, monolithic):
    ns = {}
    exec(check_app(app).table(monolithic), ns)  # a module of plain literals
    return ns


@pytest.mark.parametrize("app", STOCK)
def test_the_monolithic_table_has_no_driver_tasks_and_no_supervisor(app):
    keep, mono = table(app, False), table(app, True)
    assert mono["MONOLITHIC"] is True and "MONOLITHIC" not in keep
    slot0 = mono["TASKS"][0]
    assert slot0[:3] == ("system", "clients.direct", "system")
    drivers = slot0[11]["drivers"]
    rows = {r[0]: r for r in keep["TASKS"]}
    # every server that owns hardware (or says driver = true) became a call
    assert set(drivers) == {n for n, r in rows.items()
                            if r[5] and (r[8] or n == "flaky")}
    names = [r[0] for r in mono["TASKS"][1:]]
    assert names == [n for n in rows if n not in drivers and n != "supervisor"]
    slots = {n: i + 1 for i, n in enumerate(names)}
    keep_slot = {r[0]: i for i, r in enumerate(keep["TASKS"])}
    for r in mono["TASKS"][1:]:
        assert r[4] == 2 and r[9] == 0 and r[10] == 0  # reboot, no budgets
        old = dict(rows[r[0]][7])
        # grants to tasks kept, renumbered; grants to drivers became their badges
        want = sorted((slots[n], old[keep_slot[n]]) for n in names if keep_slot[n] in old)
        assert list(r[7]) == want
        for d, (module, function, args, owns, badges) in drivers.items():
            if keep_slot[d] in old:
                assert badges[slots[r[0]]] == old[keep_slot[d]]
                assert (module, function) == rows[d][1:3] and owns == rows[d][8]


# What each stock app logs when it works (its drivers answered), and the
# app's tasks the monolithic build runs besides slot 0's system.
EXPECT = {
    "blinky": ("blinky: cycle 2", 1),
    "chaos": ("chaos: requests=", 1),
    "flash_logger": ("logger: 32 records written, 32 verified, 0 errors", 1),
    "hil": ("hil: ready out=", 8),
    "uart_echo": (None, 1),
}


def test_the_expectations_cover_every_stock_app():
    assert sorted(EXPECT) == STOCK


@pytest.mark.parametrize("app", STOCK)
def test_every_stock_app_runs_monolithic_on_the_unix_virtual_board(app):
    lines = []
    res = run_demo(seconds=3.0, app=app, board="unix", out=lines.append, monolithic=True)
    text = "\n".join(lines)
    want, tasks = EXPECT[app]
    assert f"kernel running, {tasks + 1} tasks" in text, text
    assert "--monolithic" in text
    if want:
        assert want in text, text
    if app == "chaos":
        c = res.chaos
        assert c["served"] > 0 and c["lost"] == 0 and c["drivers"] == 0, c
    else:  # nothing faulted, nothing restarted: there is no one to restart anything
        assert not res.faults and not res.restarts, text


def test_keep_deploy_monolithic_then_keep_again(tmp_path):
    """The command line: --monolithic deploys the table without drivers or
    supervisor; a deploy without it puts the Keep build back (only the
    table changes)."""
    from keep_host import cli
    from keep_host.vboard import VirtualBoard

    with VirtualBoard(tmp_path) as vb:
        vb.wait_output(">>> ", 10)
        mark = vb.mark()
        assert cli.main(["deploy", "--port", vb.url, "--app", "blinky", "--monolithic",
                         "--plain"]) == 0
        vb.wait_output("keep: kernel running, 2 tasks (app blinky", 20, since=mark)
        mark = vb.mark()
        assert cli.main(["deploy", "--port", vb.url, "--app", "blinky", "--plain"]) == 0
        vb.wait_output("keep: kernel running, 3 tasks (app blinky", 20, since=mark)


@pytest.fixture(scope="module")
def pico_flash(tmp_path_factory):
    """One flash for every app's run on the emulated Pico: each deploy copies
    only what changed since the app before."""
    from keep_host.vboard.pico import node_or_none

    if node_or_none() is None:
        pytest.skip("the emulated Pico needs Node.js >= 18, not installed here")
    return tmp_path_factory.mktemp("pico") / "flash"


@pytest.mark.parametrize("app", STOCK)
def test_every_stock_app_runs_monolithic_on_the_emulated_pico(app, pico_flash):
    """The same on the emulated Pico (the official rp2 firmware), the apps
    rigged for its wiring (--wiring board)."""
    lines = []
    res = run_demo(seconds=3.0, app=app, board="rpi_pico", out=lines.append,
                   monolithic=True, flash_dir=pico_flash)
    text = "\n".join(lines)
    want, tasks = EXPECT[app]
    assert f"kernel running, {tasks + 1} tasks" in text, text
    if want:
        assert want in text, text
    if app == "chaos":
        assert res.chaos["served"] > 0 and res.chaos["lost"] == 0, res.chaos
    else:
        assert not res.faults and not res.restarts, text
