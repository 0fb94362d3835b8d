"""Shared pytest setup: report how many tests ran on MicroPython itself."""


def pytest_terminal_summary(terminalreporter):
    passed = terminalreporter.stats.get("passed", [])
    on_mp = [r for r in passed if "tests/firmware/" in r.nodeid]
    terminalreporter.write_line(
        f"firmware tests executed by the MicroPython unix port: {len(on_mp)} passed")
