"""The docs hang together: every page is linked from the index once, and
every relative link points at a file that exists."""

import re

from keep_host.paths import ROOT

DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_index_links_every_page_once():
    index = (DOCS / "index.md").read_text()
    targets = LINK.findall(index)
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")
    missing = [p for p in pages if targets.count(p) != 1]
    assert not missing, f"pages not linked exactly once from docs/index.md: {missing}"


def test_relative_links_resolve():
    bad = []
    for page in list(DOCS.rglob("*.md")) + [ROOT / "README.md"]:
        for target in LINK.findall(page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                bad.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not bad, "broken links:\n" + "\n".join(bad)
