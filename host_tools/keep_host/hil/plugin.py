"""pytest plugin for hardware-in-the-loop runs (entry point `keep_hil`).

Inert unless a test uses its fixtures (`dut`, `hil_board`, `fault_campaign`):
the options exist, the markers are registered, nothing else happens.

Options: --port (device, id:SERIAL, socket://..., vboard; a comma list
gives pytest-xdist worker N the N-th port), --board, --app, --keep-log-dir,
--keep-timeout, --keep-heap, --virtual-boards. Markers: keep_app(name),
keep_reset, keep_timeout(seconds), keep_faults(seed=, kinds=, every_ms=,
count=, targets=).

With no --port (or --port vboard) and no --board, every HIL test runs on
each virtual board of --virtual-boards (ini `keep_virtual_boards`, default
`unix`): `test_x[unix]`, `test_x[rpi_pico]`. A board that cannot run here
(the emulated Pico without Node.js) skips its tests with one line saying why.
"""

import os
import re

import pytest

from ..errors import KeepError

DEFAULT_APP = "chaos"
DEFAULT_TIMEOUT_S = 60.0
FIXTURES = ("dut", "hil_board", "fault_campaign")


def pytest_addoption(parser):
    g = parser.getgroup("keep", "Keep hardware-in-the-loop")
    g.addoption("--port", default=None,
                help="board console: /dev/ttyUSB0, id:SERIAL, socket://HOST:PORT or vboard; "
                     "comma-separated: one per xdist worker")
    g.addoption("--board", default=None, help="board name (default: unix for vboard)")
    g.addoption("--app", default=None, help=f"app to deploy (default {DEFAULT_APP}, or keep_app marker)")
    g.addoption("--keep-log-dir", default=None, help="where per-test logs go (default: pytest's tmp dir)")
    g.addoption("--keep-timeout", type=float, default=None,
                help=f"hard timeout per HIL test in s (default {DEFAULT_TIMEOUT_S:g}); the board is "
                     "recovered after one")
    g.addoption("--keep-heap", default=None, help="virtual board heap (default 256K)")
    g.addoption("--virtual-boards", default=None,
                help="with no --port/--board: run each HIL test on these virtual boards "
                     "(space or comma separated; default: ini keep_virtual_boards, else unix)")
    parser.addini("keep_port", "default --port for HIL tests", default=None)
    parser.addini("keep_virtual_boards", "virtual boards the HIL tests run on when no "
                  "--port/--board is given", default="unix")
    parser.addini("keep_app", "default --app for HIL tests", default=None)


def pytest_configure(config):
    for line in (
        "keep_app(name): deploy this app for the test (once per session per app)",
        "keep_reset: soft-reset the board into the kernel before the test",
        "keep_timeout(seconds): hard timeout of a HIL test (board recovered after it)",
        "keep_faults(seed=0, kinds=[...], every_ms=200, count=10, targets=[...]): "
        "a seeded fault campaign for the fault_campaign fixture",
    ):
        config.addinivalue_line("markers", line)


def _uses_hil(item):
    return any(f in getattr(item, "fixturenames", ()) for f in FIXTURES)


def _timeout_for(item):
    """The hard (wall-clock) timeout of a HIL test: its board seconds, scaled
    by the declared speed of an emulated board (keep_host.vboard.pico)."""
    m = item.get_closest_marker("keep_timeout")
    if m and m.args:
        seconds = float(m.args[0])
    else:
        opt = item.config.getoption("--keep-timeout")
        seconds = opt if opt is not None else DEFAULT_TIMEOUT_S
    callspec = getattr(item, "callspec", None)
    board = callspec.params.get("hil_board") if callspec else item.config.getoption("--board")
    if board == "rpi_pico" and (callspec or (_opt(item.config, "--port", "keep_port")
                                             in (None, "vboard"))):
        from ..vboard.pico import DECLARED_SPEED

        seconds /= DECLARED_SPEED
    return seconds


def virtual_boards(config):
    """The virtual boards to run each HIL test on, or None (one board: --port/--board)."""
    port = _opt(config, "--port", "keep_port")
    if (port and port != "vboard") or config.getoption("--board"):
        return None
    spec = config.getoption("--virtual-boards") or config.getini("keep_virtual_boards") or "unix"
    return [b for b in spec.replace(",", " ").split() if b]


def pytest_generate_tests(metafunc):
    if "hil_board" not in metafunc.fixturenames:
        return
    boards = virtual_boards(metafunc.config)
    if boards and boards != ["unix"]:  # one board alone keeps the plain test ids
        metafunc.parametrize("hil_board", boards, indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # pytest-timeout's signal method raises inside the test, so fixtures
    # tear down normally and the dut fixture gets to recover the board.
    # func_only: the timeout is the test's own; starting and deploying the
    # board in the fixtures waits in board time of its own, and a loaded
    # machine must not turn a slow boot into the test's timeout.
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if _uses_hil(item) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(_timeout_for(item), method="signal", func_only=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if call.when == "call":
        item._keep_call_failed = rep.failed
        item._keep_timed_out = rep.failed and "Timeout" in str(rep.longrepr)[:2000]
    return rep


# ---- fixtures ----------------------------------------------------------------


def _opt(config, name, ini):
    v = config.getoption(name)
    if v is None:
        try:
            v = config.getini(ini) or None
        except ValueError:
            v = None
    return v


@pytest.fixture(scope="session")
def hil_board(request, tmp_path_factory):
    """The board this process owns (a BoardSession), started and stopped once."""
    from . import ports
    from .session import DEFAULT_HEAP, BoardSession

    config = request.config
    workerid = os.environ.get("PYTEST_XDIST_WORKER")
    board = getattr(request, "param", None) or config.getoption("--board")
    if board == "rpi_pico" and getattr(request, "param", None):
        from ..vboard.pico import node_or_none

        if node_or_none() is None:
            pytest.skip("the emulated Pico needs Node.js >= 18, which is not installed here")
    try:
        spec = ports.pick(_opt(config, "--port", "keep_port"), workerid)
        s = BoardSession(spec, board=board,
                         workdir=tmp_path_factory.mktemp("board"),
                         heap=config.getoption("--keep-heap") or DEFAULT_HEAP)
        s.start()
    except KeepError as err:
        pytest.fail(f"HIL board: {err}", pytrace=False)
    s.workerid = workerid or "main"
    yield s
    s.stop()


def _log_path(request, tmp_path_factory):
    d = request.config.getoption("--keep-log-dir")
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:] + ".log"
    if d:
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)
    return str(tmp_path_factory.getbasetemp() / "keep-logs" / name)


@pytest.fixture
def dut(request, hil_board, tmp_path_factory):
    """The device under test: deployed once per session, logged per test."""
    from .dut import Dut

    m = request.node.get_closest_marker("keep_app")
    app = (m.args[0] if m and m.args else None) or _opt(request.config, "--app", "keep_app") \
        or DEFAULT_APP
    path = _log_path(request, tmp_path_factory)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    log = open(path, "w")
    log.write(f"# {request.node.nodeid} on {hil_board.port} ({hil_board.board.name}), app {app}\n")
    hil_board.link.log = log
    try:
        if not hil_board.link.attached and hil_board.deploys:
            hil_board.recover()
        res = hil_board.ensure(app)
        if res is not None:
            log.write(f"# {res.summary()}\n")
        d = Dut(hil_board, log_path=path)
        if request.node.get_closest_marker("keep_reset"):
            d.reset()
    except KeepError as err:
        hil_board.link.log = None
        log.close()
        pytest.fail(f"HIL setup: {err}", pytrace=False)
    yield d
    d.close()
    failed = getattr(request.node, "_keep_call_failed", False)
    try:
        if getattr(request.node, "_keep_timed_out", False) or (failed and not hil_board.healthy()):
            log.write("# recovering the board\n")
            hil_board.recover()
            log.write("# recovered\n")
        elif failed:
            hil_board.reset()  # a failed test may have left tasks held or faulted
    except KeepError as err:
        log.write(f"# recovery failed: {err}\n")
    finally:
        hil_board.link.log = None
        log.close()


@pytest.fixture
def fault_campaign(request, dut):
    """A seeded fault campaign (see keep_host.hil.campaign), configured by the
    keep_faults marker; call .run() and then .check() in the test."""
    from .campaign import Campaign

    m = request.node.get_closest_marker("keep_faults")
    kw = dict(m.kwargs) if m else {}
    return Campaign(dut, **kw)
