"""docs/howto-server.md is a test: the walkthrough builds a working app.

The page's code blocks tagged `file=NAME` are the app (blocks of one file
are its parts in order). Here they are put together and:
- they are the files of docs/examples/counter/, so the example the other
  pages point at is what the walkthrough builds, and neither drifts;
- the protocol table passes make abi's checks, and make abi's code writes
  the server's and the client's const blocks exactly as the page shows
  them (the op numbers from the table, the reply codes from keep/abi.py);
- the app, written to a fresh folder (a path with a space), goes through
  the page's step 7 on a virtual board (the MicroPython unix port): every
  `$ keep ...` line of its transcript runs as the `keep` command does, and
  prints what the page shows (numbers, hex data and the board's URL aside);
  the totals it reads show the adder at work and the total surviving the
  server's restart, as the page says.
"""

import re
import shlex
import time

from keep_host import abigen, cli
from keep_host.boardtime import Deadline
from keep_host.paths import ROOT
from keep_host.vboard import VirtualBoard

DOC = ROOT / "docs" / "howto-server.md"
EXAMPLE = ROOT / "docs" / "examples" / "counter"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```$", re.M | re.S)


def blocks():
    """(language, info string, text) of every fenced block of the page, in order."""
    return [m.groups() for m in FENCE.finditer(DOC.read_text())]


def walkthrough_files():
    """name -> text: the blocks tagged file=NAME, each file's parts joined
    as a module's top-level pieces are (two blank lines)."""
    files = {}
    for _lang, info, text in blocks():
        m = re.search(r"\bfile=(\S+)", info)
        if m:
            name = m.group(1)
            files[name] = files[name] + "\n\n" + text if name in files else text
    return files


def test_the_walkthrough_builds_the_example():
    files = walkthrough_files()
    assert set(files) == {p.name for p in EXAMPLE.iterdir() if p.is_file()}, \
        "every file of docs/examples/counter/ is a block of docs/howto-server.md, and no other"
    for name, text in files.items():
        assert text == (EXAMPLE / name).read_text(), \
            f"docs/howto-server.md's {name} differs from docs/examples/counter/{name}"


def test_numbers_come_from_the_protocol_table(tmp_path):
    """make abi's own code: the table passes its checks, and it writes the
    server's and the client's const blocks as the page shows them."""
    files = walkthrough_files()
    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols" / "counter.toml").write_text(files["protocol.toml"])
    table = abigen.load_protocols(tmp_path)["counter"]
    assert table["op"], "the protocol table has no ops"
    sources = {"abi": abigen.load_abi(ROOT), "counter": abigen.protocol_source(table)}
    for name in ("counter.py", "counter_client.py"):
        text = files[name]
        assert abigen.START in text, f"{name} has no generated const block"
        assert abigen.regenerate_py(text, sources, name) == text, \
            f"{name}: its const block is not what make abi writes from protocol.toml"
        for op in table["op"]:
            assert f"_{op['name']} = const({op['number']})" in text, f"{name} does not name {op['name']}"


def transcript():
    """[(argv, expected lines)] of the page's console block."""
    (text,) = [t for lang, _info, t in blocks() if lang == "console"]
    steps = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((shlex.split(line[2:]), []))
        else:
            steps[-1][1].append(line)
    return steps


def shape(line):
    """A line with what a run changes masked: hex data, the URL, numbers."""
    line = re.sub(r"data [0-9a-f]+ ", "data HEX ", line)
    line = re.sub(r"socket://[\w.]+:\d+", "URL", line)
    return re.sub(r"\d+(\.\d+)?", "N", line)


def matches(expected, got):
    """got fits expected, where an expected line `...` stands for any lines."""
    if not expected:
        return not got
    if expected[0] == "...":
        return any(matches(expected[1:], got[j:]) for j in range(len(got) + 1))
    return bool(got) and shape(expected[0]) == shape(got[0]) and matches(expected[1:], got[1:])


def total(out):
    """The u32 total a GET reply printed (`rc 0 (ok) data 5a000000 (4 bytes)`)."""
    return int.from_bytes(bytes.fromhex(re.search(r"data ([0-9a-f]{8}) ", out).group(1)), "little")


def wait_for_adds(call, capsys):
    """Let the adder run first, until its ten adds of 1..9, 0 made 45."""
    deadline = Deadline(30)
    while True:
        cli.main([*call, "2"])
        out = capsys.readouterr().out
        if " (ok) " in out and total(out) >= 45:
            return
        assert not deadline.expired(), f"the adder does not add: {out}"
        time.sleep(0.2)


def test_the_walkthrough_runs_on_a_virtual_board(tmp_path, capsys):
    app = tmp_path / "my apps" / "counter"
    app.mkdir(parents=True)
    for name, text in walkthrough_files().items():
        (app / name).write_text(text)
    flash = tmp_path / "flash"
    flash.mkdir()
    totals = []
    with VirtualBoard(flash) as vb:
        vb.wait_output(">>> ", 10)
        for argv, expected in transcript():
            assert argv[0] == "keep"
            argv = [str(app) if a == "docs/examples/counter" else vb.url if a == "URL" else a
                    for a in argv[1:]]
            if argv[0] == "call" and not totals:
                wait_for_adds(argv[:argv.index("counter") + 1], capsys)
            rc = cli.main(argv)
            out = capsys.readouterr().out
            got = out.rstrip("\n").splitlines()
            assert matches(expected, got), \
                f"`keep {' '.join(argv)}` printed:\n{out}\nthe page shows:\n" + "\n".join(expected)
            assert (rc == 0) == (" (ok) " in out or argv[0] != "call"), out
            if argv[0] == "call" and argv[-1] == "2":  # GET
                totals.append(total(out))
    before, after = totals
    # At least ten adds (45) before the first GET; a total reset by the
    # restart would be a few adds old at the second.
    assert before >= 45, totals
    assert after >= before, f"the total did not survive the restart: {totals}"
