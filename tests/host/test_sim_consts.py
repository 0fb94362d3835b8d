"""hal.sim's private copies of numbers agree with their sources.

A `const()` is inlined only within its own module, and on the board every
public module global costs a dict slot, so the simulator's modules keep
private copies of each other's numbers (the rows of `pins.tab`, the
offsets into `uart.lw`, the HAL's pin and reset numbers) and hal.sim.world
makes them public for the host and tests. Each copy names its source in a
trailing comment, `_X = const(N)  # pins._X` (the first `module.NAME` in
the comment); this test checks every such pairing, as
test_abi_consistency does for the kernel's copies of keep.abi.
"""

import ast
import re

from keep_host.paths import FIRMWARE

SIM = FIRMWARE / "hal" / "sim"
REF_RE = re.compile(r"#.*?\b(hal|pins|uart|spi|wdt|nor|world|ctl)\.(_?[A-Z][A-Z0-9_]*)\b")


def _consts(path):
    """{name: (value, line)} of every `NAME = const(expr)` in the module."""
    src = path.read_text()
    out, env = {}, {}
    for node in ast.parse(src).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "const"):
            v = eval(compile(ast.Expression(node.value.args[0]), str(path), "eval"), {}, env)  # noqa: S307
            env[node.targets[0].id] = v
            out[node.targets[0].id] = (v, node.lineno)
    return out


def _modules():
    mods = {p.stem: p for p in sorted(SIM.glob("*.py")) if p.stem != "__init__"}
    mods["hal"] = FIRMWARE / "hal" / "__init__.py"
    mods["sim"] = SIM / "__init__.py"  # its copies only: nothing copies from it
    return {name: _consts(p) for name, p in mods.items()}, mods


def test_private_copies_match_their_source():
    consts, paths = _modules()
    pairs, bad = 0, []
    for mod, path in paths.items():
        lines = path.read_text().splitlines()
        for name, (value, n) in consts[mod].items():
            m = REF_RE.search(lines[n - 1])
            if not m:
                continue
            src, src_name = m.groups()
            pairs += 1
            want = consts[src].get(src_name)
            if want is None:
                bad.append(f"{path.name}:{n}: {name} copies {src}.{src_name}, which is not a const there")
            elif want[0] != value:
                bad.append(f"{path.name}:{n}: {name} = {value!r} but {src}.{src_name} = {want[0]!r}")
    assert pairs > 30, "expected hal.sim to carry annotated copies"
    assert not bad, "\n".join(bad)
