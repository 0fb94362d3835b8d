"""One syscall surface (issue 13): every syscall is defined in keep/task.py
and listed once in its Handle's table with its abi.SYS_* number; the table,
abi.py and docs/kernel.md's syscall reference agree; the kernel's imports
point one way (docs/kernel.md, "Modules") and it never imports `hal`.

Read as source (ast): the firmware is MicroPython, and its import-order
independence is checked on MicroPython by tests/firmware/kernel_surface.py.
"""

import ast
import re

from keep_host import abi
from keep_host.paths import FIRMWARE, ROOT

KEEP = FIRMWARE / "keep"
TASK = KEEP / "task.py"
DOC = ROOT / "docs" / "kernel.md"
# Parameters from here on are kernel tables bound as defaults (task.py,
# "Hot path"), not part of the syscall's signature.
SENTINEL = "end"
TABLE_LINE = re.compile(r"^    (\w+) = (\w+)  # abi\.(SYS_\w+)$")
DOC_ROW = re.compile(r"^\| `k\.(\w+)\((.*?)\)` \| `(SYS_\w+)` = (\d+) \|")


def _table():
    """[(method, function, SYS name)] from the Handle class's table."""
    src = TASK.read_text().splitlines()
    start = src.index("class Handle:")
    rows = []
    for line in src[start:]:
        m = TABLE_LINE.match(line)
        if m:
            rows.append(m.groups())
        elif rows and not line.strip():
            break
    return rows


def _defs(path):
    return {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


def _signature(fn):
    """The syscall's parameters after the handle, as written in the docs."""
    a = fn.args
    pos = a.args[1:]
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out = []
    for arg, d in zip(pos, defaults, strict=True):
        if arg.arg == SENTINEL:
            break
        out.append(arg.arg if d is None else f"{arg.arg}={_default(d)}")
    return ", ".join(out)


def _default(node):
    if isinstance(node, ast.Name):  # a private const, e.g. _F_INJECTED
        return str(getattr(abi, node.id.lstrip("_")))
    return ast.unparse(node)


def _sys_name(method):
    """abi's name for a method: sleep_ms -> SYS_SLEEP, yield_ -> SYS_YIELD."""
    return "SYS_" + method.upper().rstrip("_").replace("_MS", "")


def test_every_abi_syscall_is_in_the_table_once_with_its_number():
    rows = _table()
    methods = [m for m, _, _ in rows]
    assert len(methods) == len(set(methods)), "a syscall listed twice"
    numbered = {k for k, v in vars(abi).items() if k.startswith("SYS_") and isinstance(v, int)}
    assert {s for _, _, s in rows} == numbered
    for method, _fn, sys in rows:
        assert _sys_name(method) == sys, f"Handle.{method} is listed as abi.{sys}"


def test_every_syscall_is_defined_in_task_py_and_nowhere_else():
    defs = _defs(TASK)
    for method, fn, _ in _table():
        assert fn in defs, f"Handle.{method} = {fn}: no `def {fn}` in keep/task.py"
    attach = re.compile(r"(\bHandle\.\w+\s*=[^=]|setattr\(\s*(task\.)?Handle\b)")
    for path in sorted(FIRMWARE.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not attach.search(line), f"{path.relative_to(FIRMWARE)}:{n} attaches a syscall"


def test_docs_syscall_reference_matches_the_table():
    doc = {}
    for line in DOC.read_text().splitlines():
        m = DOC_ROW.match(line)
        if m:
            method, sig, sys, num = m.groups()
            doc[method] = (sig, sys, int(num))
    defs = _defs(TASK)
    table = _table()
    assert set(doc) == {m for m, _, _ in table}, "docs/kernel.md's syscall table vs task.py's"
    for method, fn, sys in table:
        sig, dsys, num = doc[method]
        assert dsys == sys and num == getattr(abi, sys), f"{method}: docs say {dsys} = {num}"
        assert sig == _signature(defs[fn]), f"k.{method}: docs ({sig}) vs code ({_signature(defs[fn])})"


# docs/kernel.md, "Modules": a module imports only modules of a lower layer.
LAYERS = {
    "tcb": 0, "trace": 0, "caps": 0, "irq": 0, "faultnames": 0, "abi": 0,
    "abinames": 1, "sched": 1,
    "transition": 2,
    "ipc": 3, "notify": 3, "timers": 3,
    "fault": 4,
    "mem": 5, "svc": 5,
    "task": 6,
    "kernel": 7,
}
# Function-level imports allowed: boot-time only (spawn), never a syscall path.
LAZY_OK = {("kernel", "array"), ("kernel", "mem")}


def _imports(path):
    """(module imported, inside a function?) for each import: a keep module
    by its name (`from . import x`, `from .x import y`, `from keep import x`),
    anything else by its top-level package."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "keep"):
            names = [node.module] if node.level and node.module else [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module.split(".")[0]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        else:
            continue
        for name in names:
            yield name, id(node) not in top


def test_kernel_imports_point_one_way_and_never_hal():
    modules = sorted(p.stem for p in KEEP.glob("*.py") if p.stem != "__init__")
    assert set(modules) == set(LAYERS), "a kernel module without a layer (docs/kernel.md, Modules)"
    bad = []
    for name in modules:
        for dep, lazy in _imports(KEEP / f"{name}.py"):
            if dep in ("hal", "runtime", "machine"):
                bad.append(f"keep/{name}.py imports {dep}")
            elif dep in LAYERS:
                if LAYERS[dep] >= LAYERS[name]:
                    bad.append(f"keep/{name}.py (layer {LAYERS[name]}) imports {dep} "
                               f"(layer {LAYERS[dep]})")
            if lazy and (name, dep) not in LAZY_OK and dep != "micropython":
                bad.append(f"keep/{name}.py imports {dep} inside a function")
    assert not bad, "\n".join(bad)


def test_docs_module_table_covers_every_kernel_module():
    text = DOC.read_text()
    for p in KEEP.glob("*.py"):
        if p.stem not in ("__init__", "abi", "abinames"):
            assert re.search(rf"^\| \d \| `{p.stem}\.py` \|", text, re.M), \
                f"docs/kernel.md's module table lacks {p.name}"
