"""Bad input to `keep` is one line that says what is wrong, never a Python
internal (a traceback, `not enough values to unpack`, `'<=' not supported`),
and a file that is not a recording is refused rather than decoded."""

import re
import tomllib

import pytest

from keep_host import cli
from keep_host.paths import ROOT

INTERNALS = re.compile(r"Traceback|not enough values|not supported between|invalid literal|"
                       r"codec can't|object has no attribute|NoneType|Errno|unpack")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.txt").write_text("hello, this is no recording\n")
    (tmp_path / "binary.dat").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.bin").write_bytes(b"")
    return tmp_path


def run(capsys, argv):
    try:
        rc = cli.main(argv)
    except SystemExit as e:  # argparse: usage line + one error line, exit 2
        rc = e.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


BAD = [
    (["trace", "export", "text.txt", "--to", "csv", "-o", "out.csv"], 1,
     "no trace frames in text.txt"),
    (["trace", "export", "binary.dat", "--to", "perfetto", "-o", "out.json"], 1,
     "no trace frames in binary.dat"),
    (["trace", "export", "empty.bin", "--to", "vcd", "-o", "out.vcd"], 1, "no trace frames"),
    (["monitor", "--replay", "binary.dat"], 1, "not a recording"),
    (["monitor", "--replay", "text.txt"], 1, "not a recording"),
    (["monitor", "--replay", "empty.bin"], 1, "not a recording"),
    (["monitor", "--replay", "text.txt", "--names", "1"], 2, "'1' is not SLOT=NAME"),
    (["monitor", "--replay", "text.txt", "--names", "a=b"], 2, "'a' is not a task slot"),
    (["monitor", "--replay", "text.txt", "--names", "=x"], 2, "'' is not a task slot"),
    (["monitor", "--replay", "text.txt", "--names", "binary.dat"], 2, "not a JSON object"),
    (["trace", "export", "text.txt", "--to", "csv", "-o", "o", "--names", "300=x"], 2,
     "'300' is not a task slot"),
    (["monitor", "-p", "socket://x"], 1, "needs HOST:PORT"),
    (["monitor", "-p", "socket://127.0.0.1:99999"], 1, "needs HOST:PORT"),
    (["tasks", "-p", "rfc2217://h:x"], 1, "needs HOST:PORT"),
    (["tasks", "-p", "loop://", "--timeout", "-1"], 2, "--timeout: -1 must be more than 0"),
    (["tasks", "-p", "loop://", "--timeout", "nan"], 2, "--timeout: nan must be more than 0"),
    (["monitor", "-p", "loop://", "--duration", "-2"], 2, "--duration: -2 must be 0 or more"),
    (["hold", "-p", "loop://", "-b", "0", "x"], 2, "--baud: 0 must be a whole number"),
    (["demo", "--seconds", "0"], 2, "--seconds: 0 must be more than 0"),
    (["call", "-p", "loop://", "echo", "x"], 2, "op 'x' is not a number"),
    (["call", "-p", "loop://", "echo", "1", "zz"], 2, "data 'zz' is not hex"),
    (["call", "-p", "loop://", "echo", "300"], 2, "op 300 out of range"),
    (["test", "-p", "vboard", "--board", "nosuch"], 1, 'unknown board "nosuch"'),
]


@pytest.mark.parametrize("argv, code, words", BAD, ids=[" ".join(b[0][:3]) for b in BAD])
def test_bad_input_is_one_line(files, capsys, argv, code, words):
    rc, out, err = run(capsys, argv)
    assert rc == code, err
    lines = err.strip().splitlines()
    assert lines and words in lines[-1], err
    # argparse's usage (wrapped) may come first; the message is one line
    said = [ln for ln in lines if not ln.startswith(("usage:", " "))]
    assert len(said) == 1, err
    assert not INTERNALS.search(err), err
    assert "\x00" not in out and len(out) < 200, out  # no file decoded as text


def test_export_without_frames_writes_nothing(files, capsys):
    rc, _, _ = run(capsys, ["trace", "export", "text.txt", "--to", "csv", "-o", "out.csv"])
    assert rc == 1 and not (files / "out.csv").exists()


def test_requires_python_is_honest():
    """host_tools reads TOML with tomllib, new in Python 3.11: pip must refuse
    an older Python instead of installing a keep that fails at its first run."""
    spec = tomllib.loads((ROOT / "host_tools" / "pyproject.toml").read_text())
    m = re.fullmatch(r">=\s*3\.(\d+)", spec["project"]["requires-python"].strip())
    assert m, spec["project"]["requires-python"]
    uses = [p for p in (ROOT / "host_tools" / "keep_host").rglob("*.py")
            if re.search(r"^\s*import tomllib", p.read_text(), re.M)]
    assert uses and int(m.group(1)) >= 11
