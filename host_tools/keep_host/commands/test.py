"""keep test: run the HIL suite (pytest with the keep_hil plugin) against a board."""

import argparse

HELP = "run HIL tests with pytest against a board (keep test --port vboard tests/hil)"


def add_arguments(p):
    # Every argument goes to pytest untouched (its --help lists the keep
    # options too): nothing here is parsed as an option of `keep test`.
    p.prefix_chars = "+"
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="ARG",
                   help="pytest arguments, e.g. --port /dev/ttyUSB0 --board esp32_devkitc tests/hil")
    p.usage = "keep test [--port PORT] [--board BOARD] [--app APP] [pytest args...]"


def main(args):
    import pytest

    from .. import paths

    argv = list(args.pytest_args)
    import os

    if not any(os.path.exists(a.split("::")[0]) for a in argv if not a.startswith("-")):
        argv.append(str(paths.ROOT / "tests" / "hil"))
    return int(pytest.main(argv))
