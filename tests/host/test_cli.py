"""The `keep` command's frame: help, version, one-line errors."""

import subprocess
import sys

from keep_host import __version__, cli


def test_version(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as e:
        assert e.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys):
    try:
        cli.main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_console_script_installed():
    res = subprocess.run([sys.executable, "-m", "keep_host", "--version"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert __version__ in res.stdout


def test_unknown_command_is_one_line_error():
    res = subprocess.run([sys.executable, "-m", "keep_host", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
