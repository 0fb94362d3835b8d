"""HIL suite defaults: the `hil` app, and a virtual board when no --port is given
(so plain `pytest` / `make test` runs it). With --port the same files run on a
real board with its test wiring (docs/hil.md)."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        # This directory itself, not "tests/hil" anywhere in the path: a
        # checkout may sit inside a folder of that name (issue 14).
        if HERE in Path(item.path).resolve().parents and \
                item.get_closest_marker("keep_app") is None and config.getoption("--app") is None:
            item.add_marker(pytest.mark.keep_app("hil"))


@pytest.fixture
def gpio_loop(dut):
    out_pin, in_pin = dut.wiring["gpio_loop"][0]
    return out_pin, in_pin
