"""docs/tradeoff.md, generated from bench/results.json (bench/tradeoff.py)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "tradeoff.md"


def write_doc(results=None, path=DOC):
    from resultsfile import load

    r = load() if results is None else results
    path.write_text(render(r))
    return path


def render(r):
    return "# The microkernel trade-off, measured\n"
