"""abi.py is the one source of truth: private copies of its numbers agree.

Hot kernel paths use module-private `const()` copies of ABI numbers (a
`const` is inlined only within its own module). Each copy names its source
in a trailing comment, `_X = const(N)  # abi.NAME` (N an int or a bytes
literal), or a literal passed inline, `tw(2, ...)  # abi.TR_SEND`; this
test checks every such pairing.
"""

import ast
import re

from keep_host import abi
from keep_host.paths import FIRMWARE

CONST_RE = re.compile(r"=\s*const\((-?\d+)\)\s*#\s*-?abi\.([A-Z_0-9]+)")
CALL_RE = re.compile(r"\(\s*(\d+)\s*,.*#\s*abi\.([A-Z_0-9]+)")
BYTES_RE = re.compile(r"=\s*const\((b'[^']*'|b\"[^\"]*\")\)\s*#\s*abi\.([A-Z_0-9]+)")


def _pairs():
    for path in sorted(FIRMWARE.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for rx in (CONST_RE, CALL_RE):
                m = rx.search(line)
                if m:
                    neg = "# -abi." in line
                    yield path.relative_to(FIRMWARE), n, int(m.group(1)), m.group(2), neg
            m = BYTES_RE.search(line)
            if m:
                yield path.relative_to(FIRMWARE), n, ast.literal_eval(m.group(1)), m.group(2), False


def test_private_copies_match_abi():
    pairs = list(_pairs())
    assert len(pairs) > 10, "expected the kernel to carry annotated ABI copies"
    bad = []
    for path, n, value, name, neg in pairs:
        want = getattr(abi, name, None)
        if want is None:
            bad.append(f"{path}:{n}: abi.{name} does not exist")
        elif (-want if neg else want) != value:
            bad.append(f"{path}:{n}: {value} but abi.{name} is {want}")
    assert not bad, "\n".join(bad)


def test_abi_numbers_are_unique_per_family():
    for prefix in ("ST_", "TR_", "F_", "SYS_"):
        vals = {k: v for k, v in vars(abi).items() if k.startswith(prefix) and isinstance(v, int)
                and k not in ("TR_SIZE", "TR_KIND_MAX", "TR_WIRE_LEN", "TR_DELIVERED")}
        assert len(set(vals.values())) == len(vals), prefix
    errs = {k: v for k, v in vars(abi).items() if k.startswith("E_")}
    assert all(v < 0 for v in errs.values()) and len(set(errs.values())) == len(errs)
    assert set(abi.RC_NAMES) == set(errs.values()) | {0}
    assert set(abi.TR_NAMES) == {v for k, v in vars(abi).items() if k.startswith("TR_") and isinstance(v, int)
                                 and k not in ("TR_SIZE", "TR_KIND_MAX", "TR_WIRE_LEN", "TR_DELIVERED")}


def test_board_never_loads_abi():
    """Firmware reads ABI numbers through private consts only, so the board
    spends no RAM on keep.abi's dictionary and names (tests may import it)."""
    users = [str(p.relative_to(FIRMWARE)) for p in sorted(FIRMWARE.rglob("*.py"))
             if re.search(r"^\s*(from keep\.abi import|from (\.|keep) import .*\babi\b|import keep\.abi)",
                          p.read_text(), re.M)]
    assert users == [], users
