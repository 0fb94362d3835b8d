"""The declared hot path (docs/performance.md, "Rules", issue 16): the
firmware modules that use MicroPython's code emitters (native, viper) are
exactly the ones whose header declares a hot part and points at the rules,
and the rules' list of modules names each of them. Read as text: the
firmware is MicroPython."""

import re

from keep_host.paths import FIRMWARE, ROOT

HEADER = '# Declared hot path (docs/performance.md, "Rules"): '
EMITTER = re.compile(r"^\s*@micropython\.(native|viper)\b", re.M)


def _rules():
    text = (ROOT / "docs" / "performance.in.md").read_text()
    start = text.index("#### Rules")
    return text[start:text.index("####", start + 1)]


def _modules():
    return sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)


def test_modules_with_tricks_declare_a_hot_path_and_the_rules_name_them():
    rules = _rules()
    declared = []
    for path in _modules():
        text = path.read_text()
        rel = path.relative_to(FIRMWARE).as_posix()
        if text.startswith(HEADER):
            declared.append(rel)
            assert f"`{rel}`" in rules or f"`{rel.rsplit('/', 1)[0]}/" in rules, \
                f"{rel} declares a hot path the rules do not list"
        else:
            assert not EMITTER.search(text), \
                f"{rel} uses a code emitter but declares no hot path (docs/performance.md, Rules)"
    assert {"keep/task.py", "keep/ipc.py", "keep/sched.py", "hal/mach.py"} <= set(declared)


def test_the_supervisor_is_plain_and_reads_no_kernel_table():
    text = (FIRMWARE / "servers" / "supervisor.py").read_text()
    assert not text.startswith(HEADER)
    assert not re.search(r"^\s*(from keep import .*\btcb\b|import keep\.tcb)", text, re.M)
    assert "k.sv_task(" in text
