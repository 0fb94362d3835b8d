"""docs/trace-format.md, the decoder and firmware/keep/abi.py agree."""

import re

from keep_host import abi
from keep_host.paths import ROOT
from keep_host.trace.events import FIELDS

DOC = (ROOT / "docs" / "trace-format.md").read_text()


def test_kind_table_matches_abi():
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (\d) \|", DOC, re.M)
    table = {int(k): (name, int(w)) for k, name, w in rows}
    want = {k: (name, abi.TR_WIRE_LEN[k]) for k, name in abi.TR_NAMES.items()}
    assert table == want
    assert set(FIELDS) == set(table)


def test_constants_in_docs():
    assert f"({abi.FRAME_START:#04X})".replace("0X", "0x") in DOC
    assert f"version ({abi.FRAME_VERSION})" in DOC
    assert "0x29B1" in DOC and "0x1021" in DOC
