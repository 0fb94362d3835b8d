"""The `keep` command's frame: help, version, one-line errors."""

import subprocess
import sys

import pytest

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


def _subcommands(parser, prefix="keep"):
    import argparse

    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield f"{prefix} {name}", sub
                yield from _subcommands(sub, f"{prefix} {name}")


def test_one_meaning_for_each_short_option():
    """-p is --port, -b is --baud (as in esptool and mpremote), -v is --verbose,
    everywhere; --board has no short form; "no progress bar" has one name."""
    meaning = {"-p": "--port", "-b": "--baud", "-v": "--verbose", "-o": "--output",
               "-q": "--quiet", "-f": "--firmware", "-h": "--help"}
    seen = set()
    for name, sub in _subcommands(cli.build_parser()):
        for a in sub._actions:
            shorts = [o for o in a.option_strings if not o.startswith("--")]
            longs = [o for o in a.option_strings if o.startswith("--")]
            for s in shorts:
                assert s in meaning and meaning[s] in longs, f"{name}: {s} means {longs}"
                seen.add(s)
            if "--board" in longs:
                assert not shorts, f"{name}: --board has a short form {shorts}"
            if "--port" in longs:
                assert "-p" in shorts, f"{name}: --port without -p"
            if a.help and "progress" in a.help.lower() and a.help != "==SUPPRESS==":
                assert longs == ["--no-progress"], f"{name}: {longs} for {a.help!r}"
    assert {"-p", "-b", "-v"} <= seen


def test_every_command_that_talks_to_a_board_takes_a_port():
    parser = cli.build_parser()
    subs = dict(_subcommands(parser))
    for name in ("monitor", "deploy", "tasks", "hold", "release", "fault", "call", "flash",
                 "test"):
        opts = {o for a in subs[f"keep {name}"]._actions for o in a.option_strings}
        assert {"-p", "--port"} <= opts, name
        assert not any(a.required for a in subs[f"keep {name}"]._actions
                       if "--port" in a.option_strings), f"keep {name}: --port has a default"


def test_bash_completion(tmp_path):
    """The script `keep completion bash` prints, run by bash: commands,
    options, option choices, files."""
    res = subprocess.run([sys.executable, "-m", "keep_host", "completion", "bash"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    script = tmp_path / "keep.bash"
    script.write_text(res.stdout)
    (tmp_path / "session.bin").write_bytes(b"")

    def complete(line):
        words = line.split(" ")
        prog = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                f"COMP_CWORD={len(words) - 1}; _keep; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        out = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return set(out.stdout.split())

    assert {"deploy", "demo"} <= complete("keep de")
    assert complete("keep mon") == {"monitor"}
    assert {"--port", "--plain", "--replay", "--baud"} <= complete("keep monitor --")
    assert complete("keep trace export x --to ") == {"perfetto", "vcd", "csv"}
    assert complete("keep trace ") == {"export"}
    assert "--output" in complete("keep trace export --")
    assert complete("keep deploy --app bl") == {"blinky"}
    assert complete("keep flash --board rpi") == {"rpi_pico"}
    assert complete("keep fault -p x ticker bud") == {"budget_heap", "budget_time"}
    assert complete("keep monitor --replay sess") == {"session.bin"}
    assert complete("keep completion ") == {"bash", "zsh"}
    zsh = subprocess.run([sys.executable, "-m", "keep_host", "completion", "zsh"],
                         capture_output=True, text=True).stdout
    assert "bashcompinit" in zsh and res.stdout in zsh


def test_unknown_option_is_refused_except_by_keep_test(capsys):
    try:
        cli.main(["tasks", "--nope"])
    except SystemExit as e:
        assert e.code == 2
    assert "unrecognized arguments: --nope" in capsys.readouterr().err


def test_keep_test_help_is_its_own():
    res = subprocess.run([sys.executable, "-m", "keep_host", "test", "--help"],
                         capture_output=True, text=True)
    assert res.returncode == 0
    assert res.stdout.startswith("usage: keep test")
    assert "pytest.main()" not in res.stdout
    assert "Every other argument goes to pytest" in " ".join(res.stdout.split())


@pytest.mark.parametrize("argv, words", [
    (["-p", "/dev/ttyKEEP404"], "/dev/ttyKEEP404 does not exist"),
    (["--port", "socket://127.0.0.1:1"], "nothing is listening"),
])
def test_keep_test_with_a_bad_port_is_one_line(argv, words):
    res = subprocess.run([sys.executable, "-m", "keep_host", "test", *argv, "-x"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.strip().count("\n") == 0 and words in res.stderr, res.stderr


def test_output_to_a_closed_pipe_is_not_an_error():
    res = subprocess.run(f"{sys.executable} -m keep_host boards --verbose | head -1",
                         shell=True, capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert res.stdout.count("\n") == 1
