"""kernel_code_lines: the kernel's lines of code, for bench/run.py's kernel step.

Counts the source lines of firmware/keep/*.py that hold code: blank lines,
comments and docstrings (module, class and function) are left out, and so
is the board bring-up (firmware/runtime/, not kernel code). A statement
spread over several lines counts each line it spans; statements that share
a line (`make abi`'s const blocks, `_A = const(1); _B = const(2)`) count a
line each, as if written one per line.

    python bench/code_lines.py      # prints the total and each module's
"""

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEEP = ROOT / "firmware" / "keep"
_SKIP = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENDMARKER, tokenize.ENCODING)


def _docstring_lines(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.update(range(body[0].lineno, body[0].end_lineno + 1))
    return out


def count(src):
    """Code lines of Python source text (the rules above)."""
    doc = _docstring_lines(ast.parse(src))
    lines, shared = set(), 0
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in _SKIP:
            continue
        if tok.type == tokenize.OP and tok.string == ";":
            shared += 1
        for n in range(tok.start[0], tok.end[0] + 1):
            if n not in doc:
                lines.add(n)
    return len(lines) + shared


def code_lines(path):
    return count(Path(path).read_text())


def kernel_code_lines():
    """{module: lines} for every kernel module, and the total."""
    per = {p.name: code_lines(p) for p in sorted(KEEP.glob("*.py"))}
    return sum(per.values()), per


if __name__ == "__main__":
    total, per = kernel_code_lines()
    for name, n in per.items():
        print(f"{name:16} {n:5}")
    print(f"{'total':16} {total:5}")
    sys.exit(0)
