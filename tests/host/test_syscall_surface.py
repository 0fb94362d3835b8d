"""One syscall surface (issue 13): every syscall is a method the Handle class
of keep/task.py defines itself, its def marked with its abi.SYS_* number;
those, abi.py and docs/kernel.md's syscall reference agree; the kernel's imports
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
DEF_LINE = re.compile(r"^    def (\w+)\(.*#\s*abi\.(SYS_\w+)$")
DOC_ROW = re.compile(r"^\| `k\.(\w+)\((.*?)\)` \| `(SYS_\w+)` = (\d+) \|")


def _handle():
    """The Handle class's ast node."""
    return next(n for n in ast.parse(TASK.read_text()).body
                if isinstance(n, ast.ClassDef) and n.name == "Handle")


def _table():
    """[(method, SYS name)]: the Handle methods whose def is marked `# abi.SYS_*`."""
    src = TASK.read_text().splitlines()
    h = _handle()
    return [m.groups() for line in src[h.lineno:h.end_lineno] if (m := DEF_LINE.match(line))]


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


def test_every_abi_syscall_is_a_handle_method_once_with_its_number():
    rows = _table()
    methods = [m for m, _ in rows]
    assert len(methods) == len(set(methods)), "a syscall defined twice"
    numbered = {k for k, v in vars(abi).items() if k.startswith("SYS_") and isinstance(v, int)}
    assert sorted(s for _, s in rows) == sorted(numbered)
    for method, sys in rows:
        assert _sys_name(method) == sys, f"Handle.{method} is marked abi.{sys}"


def test_every_syscall_is_defined_by_handle_and_nowhere_else():
    public = {n.name for n in _handle().body if isinstance(n, ast.FunctionDef)
              and not n.name.startswith("_")}
    assert public - {m for m, _ in _table()} == {"id", "rbuf", "reply_data"}, \
        "a public Handle method that is neither a syscall nor a known convenience"
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
    defs = {n.name: n for n in _handle().body if isinstance(n, ast.FunctionDef)}
    table = _table()
    assert set(doc) == {m for m, _ in table}, "docs/kernel.md's syscall table vs task.py's"
    for method, sys in table:
        sig, dsys, num = doc[method]
        code = _signature(defs[method])
        assert dsys == sys and num == getattr(abi, sys), f"{method}: docs say {dsys} = {num}"
        assert sig == code, f"k.{method}: docs ({sig}) vs code ({code})"


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
# Function-level imports allowed: boot time (spawn) and a fault's text (the
# fault path may allocate; keep/fault.py says why), never a syscall's work.
LAZY_OK = {("kernel", "array"), ("kernel", "mem"), ("fault", "faultnames")}


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
