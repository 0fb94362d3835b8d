"""HIL suite defaults: the `hil` app, and a virtual board when no --port is given
(so plain `pytest` / `make test` runs it). With --port the same files run on a
real board with its test wiring (docs/hil.md)."""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/hil/" in str(item.path).replace("\\", "/") and \
                item.get_closest_marker("keep_app") is None and config.getoption("--app") is None:
            item.add_marker(pytest.mark.keep_app("hil"))


@pytest.fixture
def gpio_loop(dut):
    out_pin, in_pin = dut.wiring["gpio_loop"][0]
    return out_pin, in_pin
