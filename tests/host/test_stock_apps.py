"""Every app under firmware/apps/ runs on the unix virtual board with no
fault it did not ask for.

Each app goes the everyday way: `keep deploy` (the library call, modules as
files, as `keep deploy` does by default) to a fresh virtual board, then its
console trace is decoded for a while (keep_host.demo.run_demo, what
`keep demo --app NAME --no-romfs` runs). Only the chaos app asks for faults,
and only in its flaky server.

How long: the issue asks for each app's first minute. Five apps at a minute
each would be five minutes of wall time, so each runs for a few seconds of
board time instead, which is enough to see every fault the apps had: a task's
heap budget is checked on every slice from its first, and the faults found
(blinky's and uart_echo's first call of an op loaded lazily then, flash_logger's
page loop) came in the first second. RUN_S says how long each one needs
to show its steady state: blinky cycles every 0.5 s, flash_logger finishes
its 32 records in about 1 s, chaos's flaky server crashes at 1.5 s and
every 3 s after (three crashes in 8 s), hil and uart_echo wait for the host
after their setup.
"""

import re

import pytest

from keep_host.demo import run_demo
from keep_host.paths import FIRMWARE

APPS = sorted(p.name for p in (FIRMWARE / "apps").iterdir() if (p / "app.toml").is_file())
RUN_S = {"chaos": 8.0}
DEFAULT_RUN_S = 4.0
# The faults an app asks for: task -> the fault kinds it raises on purpose.
ASKED = {"chaos": {"flaky": {"badreply", "self", "misuse", "exception"}}}
# What each app logs once it is doing its job (so a board that ran nothing fails).
WORKING = {
    "blinky": r"blinky: cycle 4\b",
    "chaos": r"chaos: .*served=[1-9]",
    "flash_logger": r"logger: 32 records written, 32 verified, 0 errors",
    "hil": r"hil: ready",
    "uart_echo": r"boot: app uart_echo on unix",
}
FAULT = re.compile(r"^\s+FAULT\s+(\S+): (\w+)")


def test_every_app_is_covered():
    assert set(WORKING) == set(APPS), "a new app under firmware/apps/ needs a WORKING line here"


@pytest.mark.parametrize("app", APPS)
def test_app_runs_clean(app):
    lines = []
    res = run_demo(seconds=RUN_S.get(app, DEFAULT_RUN_S), app=app, out=lines.append,
                   romfs=False)
    text = "\n".join(lines)
    assert re.search(WORKING[app], text), f"{app} never got to work:\n{text[-2000:]}"
    asked = ASKED.get(app, {})
    unasked = [ln for ln in lines if (m := FAULT.match(ln))
               and m.group(2) not in asked.get(m.group(1).rstrip(":"), ())]
    assert not unasked, f"{app}: faults it did not ask for:\n" + "\n".join(unasked)
    assert sum(res.faults.values()) == sum(1 for ln in lines if FAULT.match(ln))
    if asked:
        assert res.faults, f"{app} asks for faults and none came: was it running?"
    assert res.frames_corrupt == 0 and res.frames_lost == 0
