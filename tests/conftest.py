"""Shared pytest setup: report how many tests ran on MicroPython itself."""


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.stats
    firmware = [r for kind in ("passed", "skipped") for r in stats.get(kind, [])
                if "tests/firmware/" in r.nodeid]
    on_unix = [r for r in stats.get("passed", []) if "tests/firmware/" in r.nodeid
               and (not r.nodeid.endswith("]") or r.nodeid.endswith("[unix]"))]
    line = f"firmware tests executed by the MicroPython unix port: {len(on_unix)} passed"
    for board in sorted({r.nodeid.rsplit("[", 1)[1][:-1] for r in firmware
                         if r.nodeid.endswith("]")} - {"unix"}):
        mine = [r for r in firmware if r.nodeid.endswith(f"[{board}]")]
        passed = sum(1 for r in mine if r.passed)
        line += f"; on the emulated {board}: {passed} passed, {len(mine) - passed} skipped"
    terminalreporter.write_line(line)
