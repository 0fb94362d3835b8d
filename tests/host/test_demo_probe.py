"""make demo's starting point: the unix port boots at the requested heap."""

from keep_host import cli


def test_demo_reports_unix_port_and_heap(capsys):
    assert cli.main(["demo", "--heap", "64K"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MicroPython 1.")
    heap = int(out.split("heap")[1].split()[0])
    assert 60_000 < heap <= 65_536
