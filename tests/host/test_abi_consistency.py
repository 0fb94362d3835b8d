"""One source per family of numbers; every copy is generated (docs/abi.md).

firmware/keep/abi.py (the kernel ABI) and protocols/*.toml (one per server)
are the sources; `make abi` (keep_host.abigen) writes the const blocks of
firmware modules, keep/abinames.py and keep/faultnames.py, and the docs'
tables. These tests regenerate a copy of the tree and diff it against the
checkout (a hand edit or a forgotten `make abi` fails), and look for copies
of ABI or protocol numbers that are not generated.
"""

import ast
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from keep_host import abi, abigen
from keep_host.paths import FIRMWARE, ROOT

GENERATED_DIRS = ("firmware", "docs", "protocols")


def _copy_tree(tmp_path):
    for d in GENERATED_DIRS:
        shutil.copytree(ROOT / d, tmp_path / d, ignore=shutil.ignore_patterns("__pycache__", "*.mpy"))
    return tmp_path


def _make_abi(root, *args):
    return subprocess.run([sys.executable, "-m", "keep_host.abigen", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120)


def _differs(copy):
    return sorted(str(p.relative_to(copy)) for p in abigen.targets(copy)
                  if p.read_text() != (ROOT / p.relative_to(copy)).read_text())


def test_make_abi_on_a_copy_changes_nothing(tmp_path):
    copy = _copy_tree(tmp_path)
    r = _make_abi(copy)
    assert r.returncode == 0, r.stderr
    assert _differs(copy) == [], "out of date: run `make abi` (then commit what it wrote)"
    assert "everything up to date" in r.stdout


def test_a_hand_edit_and_a_table_edit_are_caught(tmp_path):
    copy = _copy_tree(tmp_path)
    srv = copy / "firmware" / "servers" / "gpio.py"
    srv.write_text(srv.read_text().replace("_TOGGLE = const(3)", "_TOGGLE = const(9)"))
    r = _make_abi(copy, "--check")
    assert r.returncode == 1 and "out of date: firmware/servers/gpio.py" in r.stdout
    # Renumbering an op in its table reaches the server, the client and the docs.
    proto = copy / "protocols" / "gpio.toml"
    proto.write_text(proto.read_text().replace('name = "TOGGLE"\nnumber = 3',
                                               'name = "TOGGLE"\nnumber = 7'))
    assert _make_abi(copy).returncode == 0
    assert _differs(copy) == ["docs/servers.md", "firmware/apps/chaos/main.py",
                              "firmware/clients/gpio.py", "firmware/servers/gpio.py"]
    assert "_TOGGLE = const(7)" in srv.read_text()
    assert "| 7 TOGGLE |" in (copy / "docs" / "servers.md").read_text()


def test_a_bad_declaration_is_one_line(tmp_path):
    copy = _copy_tree(tmp_path)
    mod = copy / "firmware" / "clients" / "uart.py"
    mod.write_text(mod.read_text().replace("# uart: WRITE READ", "# uart: WRITE READ NOSUCH"))
    r = _make_abi(copy)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "uart has no NOSUCH" in r.stderr


# ---- copies that are not generated -----------------------------------------------------


def _sources():
    out = {k: v for k, v in abigen.load_sources(ROOT).items()}
    return out


def _known():
    """{NAME: set of values} over abi.py and every protocol table."""
    known = {}
    for src in _sources().values():
        for k, v in src.values.items():
            known.setdefault(k, set()).add(v)
    return known


def _blocks(lines):
    """Line numbers (1-based) inside generated blocks."""
    inside, out = False, set()
    for n, line in enumerate(lines, 1):
        if line.startswith(abigen.START):
            inside = True
        elif line == abigen.END:
            inside = False
        elif inside:
            out.add(n)
    return out


def _consts(path):
    """[(name, value, line)] of every module-level `NAME = const(expr)`."""
    src = path.read_text()
    out, env = [], {}
    for node in ast.parse(src).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "const"):
            try:
                v = eval(compile(ast.Expression(node.value.args[0]), str(path), "eval"), {}, env)  # noqa: S307
            except NameError:
                continue
            env[node.targets[0].id] = v
            out.append((node.targets[0].id, v, node.lineno))
    return out


def _is_abi_copy(name, value, known):
    """NAME (or _NAME) is an ABI/protocol name, or an alias of one of the
    same value (_FAULTED for ST_FAULTED, _HDR for XFER_HDR)."""
    bare = name.lstrip("_")
    if bare in known:
        return True
    return any(k.endswith("_" + bare) and value in vs for k, vs in known.items())


def test_every_copy_of_an_abi_or_protocol_number_is_generated():
    known = _known()
    found, bad = 0, []
    for path in sorted(FIRMWARE.rglob("*.py")):
        if path.name == "abi.py" and path.parent.name == "keep":
            continue
        lines = path.read_text().splitlines()
        gen = _blocks(lines)
        for name, value, n in _consts(path):
            rel = path.relative_to(FIRMWARE)
            if n in gen:
                found += 1
            elif _is_abi_copy(name, value, known) or re.search(r"#\s*-?abi\.", lines[n - 1]):
                bad.append(f"{rel}:{n}: {name} copies an ABI/protocol number by hand; "
                           "name it on a `# <source>:` line of the module's generated block")
    assert not bad, "\n".join(bad)
    assert found > 150, f"only {found} generated consts: is the scan reading the blocks?"


def test_the_scan_finds_a_hand_copy(tmp_path):
    """The check above can fail: a hand copy of E_DEAD and an alias of
    ST_FAULTED outside the blocks are both found."""
    known = _known()
    mod = tmp_path / "m.py"
    mod.write_text("_E_DEAD = const(-1)\n_FAULTED = const(6)\n_FAULT_TEXT_MAX = const(120)\n")
    hits = [name for name, v, _ in _consts(mod) if _is_abi_copy(name, v, known)]
    assert hits == ["_E_DEAD", "_FAULTED"]


INLINE = re.compile(r"#\s*-?abi\.([A-Z][A-Z0-9_]*)")


def test_no_literal_stands_for_an_abi_number():
    """Code uses the generated const, not a literal marked with its abi name
    (`tw(2, ...)  # abi.TR_SEND` was one). Syscall defs keep their
    `# abi.SYS_*` mark (tests/host/test_syscall_surface.py)."""
    bad = []
    for path in sorted(FIRMWARE.rglob("*.py")):
        if path.name == "abi.py" and path.parent.name == "keep":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code, _, comment = line.partition("#")
            m = INLINE.search("#" + comment)
            if m and isinstance(getattr(abi, m.group(1), None), int) and code.strip() and \
                    not code.lstrip().startswith("def "):
                bad.append(f"{path.relative_to(FIRMWARE)}:{n}: {line.strip()}")
    assert not bad, "name the number on the module's `# abi:` line and use the const:\n" + \
        "\n".join(bad)


KERNEL_COPY = re.compile(r"#\s*(?:keep/(\w+)\.py (_?[A-Z][A-Z0-9_]*)\b|(tcb|mem|task)\.(_?[A-Z][A-Z0-9_]*)\b)")


def test_kernel_internal_copies_match_their_module():
    """Kernel numbers that are not ABI (task.py's _FRESH, tcb.MAX_TASKS)
    copied into another module name their source: `# tcb.MAX_TASKS`."""
    keep = FIRMWARE / "keep"
    consts = {p.stem: {n: v for n, v, _ in _consts(p)} for p in keep.glob("*.py")}
    pairs, bad = 0, []
    for path in sorted(keep.glob("*.py")):
        lines = path.read_text().splitlines()
        for name, value, n in _consts(path):
            m = KERNEL_COPY.search(lines[n - 1])
            if not m:
                continue
            mod, src = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            pairs += 1
            if consts.get(mod, {}).get(src) != value:
                bad.append(f"keep/{path.name}:{n}: {name} = {value}, {mod}.{src} is "
                           f"{consts.get(mod, {}).get(src)}")
    assert not bad, "\n".join(bad)
    assert pairs >= 4


# ---- the sources themselves -------------------------------------------------------------


def test_abi_numbers_are_unique_per_family():
    for prefix in ("ST_", "TR_", "F_", "SYS_", "DISP_"):
        vals = abigen.family(abigen.load_abi(ROOT), prefix, abigen.TR_NOT_KINDS)
        assert len(set(vals.values())) == len(vals), prefix
    errs = {k: v for k, v in vars(abi).items() if k.startswith("E_")}
    assert all(v < 0 for v in errs.values()) and len(set(errs.values())) == len(errs)
    assert set(abi.RC_NAMES) == set(errs.values()) | {0}
    assert set(abi.TR_NAMES) == set(abigen.family(abigen.load_abi(ROOT), "TR_",
                                                  abigen.TR_NOT_KINDS).values())


def test_the_host_names_the_same_dispositions_and_ops():
    from keep_host.manifest.model import DISPOSITIONS

    assert DISPOSITIONS == {"restart": abi.DISP_RESTART, "hold": abi.DISP_HOLD,
                            "reboot": abi.DISP_REBOOT}
    for path in sorted((ROOT / "protocols").glob("*.toml")):
        table = tomllib.loads(path.read_text())
        assert abi.OPS[path.stem] == {op["number"]: op["name"] for op in table["op"]}
        for op in table["op"]:
            for e in op.get("errors", ()):
                assert isinstance(getattr(abi, e, None), int) and getattr(abi, e) < 0, e


@pytest.mark.parametrize("server", ["gpio", "uart", "spi"])
def test_server_docstring_ops_match_the_table(server):
    """A server's docstring lists its ops as `op N NAME`: the table's."""
    doc = ast.get_docstring(ast.parse((FIRMWARE / "servers" / f"{server}.py").read_text()))
    listed = {int(n): name for n, name in re.findall(r"^\s*op (\d+) ([A-Z_]+)\b", doc, re.M)}
    if listed:
        assert listed == abi.OPS[server]


def test_board_never_loads_abi():
    """Firmware reads ABI numbers through private consts only, so the board
    spends no RAM on keep.abi's dictionary and names (tests may import it)."""
    users = [str(p.relative_to(FIRMWARE)) for p in sorted(FIRMWARE.rglob("*.py"))
             if re.search(r"^\s*(from keep\.abi import|from (\.|keep) import .*\babi\b|import keep\.abi)",
                          p.read_text(), re.M)]
    assert users == [], users
