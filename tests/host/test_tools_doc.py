"""docs/tools.md covers every `keep` subcommand and every option of the ones built here."""

import re

from keep_host import cli
from keep_host.paths import ROOT

DOC = (ROOT / "docs" / "tools.md").read_text()


def test_every_subcommand_has_a_section_with_an_example():
    for name in cli.COMMANDS:
        assert re.search(rf"^## keep {name}\b", DOC, re.M) or f"keep {name} " in DOC, name
        assert f"keep {name}" in DOC.split(f"## keep {name}", 1)[-1], name


def test_console_and_deploy_options_match_help():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("deploy", "tasks", "hold", "release", "fault", "call"):
        for action in sub.choices[name]._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in DOC, f"keep {name} {opt} missing from docs/tools.md"
