"""Reading TOML data files (boards, app manifests) with key-naming problems.

Every problem names the dotted key it is about (`tasks.gpio.priority`), so a
user can find it in the file; a file is judged in full, so one run reports
every problem rather than the first. Shared by boards.py and manifest/.

Invariant: a Reader never raises for bad data - it records a Problem and
returns None (or the default), and callers carry on with what is valid.
"""

import difflib
import json
import re
import tomllib
from dataclasses import dataclass

MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file; str() is the line to show."""

    key: str
    message: str

    def __str__(self):
        """One line, always: a key or value with a line break in it (TOML
        allows any text in a quoted key) shows the break as \\n."""
        text = f"{self.key}: {self.message}" if self.key else self.message
        return text.replace("\r", "\\r").replace("\n", "\\n")


def parse(text, source):
    """TOML text -> (dict, None) or (None, Problem) with the line number."""
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as err:
        # tomllib's message already ends "(at line L, column C)".
        return None, Problem(source, f"TOML syntax error: {err}")


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_text(key):
    """A key as TOML spells it: bare when it can be, else quoted and escaped
    (so `kernel."a\\nb"` stays on one line and names the key unambiguously)."""
    key = str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def join(path, key):
    return f"{path}.{key_text(key)}" if path else key_text(key)


def type_name(v):
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a float"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "a table"
    return f"a {type(v).__name__}"


def suggest(word, choices):
    """' (did you mean "x"?)' for a near miss, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Reader:
    """Typed access to nested TOML tables that records problems by key."""

    def __init__(self):
        self.problems = []

    def add(self, key, message):
        self.problems.append(Problem(key, message))

    def known(self, table, allowed, path):
        """Report keys of `table` that are not in `allowed`."""
        for k in table:
            if k not in allowed:
                self.add(join(path, k), f"unknown key{suggest(k, allowed)}")

    def get(self, table, key, path, kinds, default=MISSING, what=None):
        """table[key] if it has one of the Python types `kinds`, else None.

        bool is never accepted as an int (TOML keeps them apart; Python doesn't).
        """
        full = join(path, key)
        if key not in table:
            if default is MISSING:
                self.add(full, "missing (required)")
                return None
            return default
        v = table[key]
        ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
        if not ok:
            self.add(full, f"must be {what or _kinds_name(kinds)}, not {type_name(v)}")
            return None
        return v

    def int_(self, table, key, path, lo, hi, default=MISSING):
        v = self.get(table, key, path, (int,), default)
        if isinstance(v, int) and not isinstance(v, bool) and not lo <= v <= hi:
            self.add(join(path, key), f"{v} is out of range {lo}..{hi}")
            return None
        return v

    def str_(self, table, key, path, default=MISSING, choices=None):
        v = self.get(table, key, path, (str,), default)
        if choices is not None and isinstance(v, str) and v not in choices:
            opts = ", ".join(f'"{c}"' for c in choices)
            self.add(join(path, key), f'"{v}" is not one of {opts}{suggest(v, choices)}')
            return None
        return v

    def bool_(self, table, key, path, default=MISSING):
        return self.get(table, key, path, (bool,), default)

    def table(self, table, key, path, default=MISSING):
        return self.get(table, key, path, (dict,), default)

    def array(self, table, key, path, default=MISSING):
        return self.get(table, key, path, (list,), default)


def _kinds_name(kinds):
    names = {int: "an integer", str: "a string", bool: "a boolean", float: "a number",
             list: "an array", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def ranges(numbers):
    """[0,1,2,5,7,8] -> '0-2, 5, 7-8' (for listing pins in one line)."""
    out = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)
