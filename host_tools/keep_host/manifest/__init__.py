"""App manifests: check `app.toml` against a board and compile the device table.

    report = check_app("chaos")                 # or a path to app.toml
    report.ok, [str(p) for p in report.problems]
    text = compile_app("chaos", board="unix")   # app_table.py source, or ManifestError
    check_app("chaos", board="rpi_pico", wiring="board")  # rewired for the Pico's rig

An app lives in firmware/apps/<name>/app.toml; docs/manifest.md documents
every key, and table.py the table layout. The pipeline is

    TOML text --parse--> dict --schema--> App --rules(board)--> problems
                                                 `--table.render--> app_table.py

With a wiring overlay (wiring.py) the dict is rewired for the target
board's rig before the schema reads it: the same app, other pins.

Invariants: checking never raises for a bad manifest (every problem is a
Problem naming its key); a table is rendered only when there are none.
"""

from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..boards import load_board
from ..errors import KeepError
from ..tomldata import Problem, Reader, parse  # noqa: F401  (Problem is public)
from . import rules, schema, table
from .model import DISPOSITIONS, App, Task  # noqa: F401  (public names)
from .table import TABLE_VERSION, render  # noqa: F401
from .wiring import overlay


class ManifestError(KeepError):
    """A manifest with problems; str() is the first, .problems has them all."""

    def __init__(self, problems, source=""):
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more; run `keep check`)" if len(problems) > 1 else ""
        super().__init__(f"{source + ': ' if source else ''}{self.problems[0]}{more}")


@dataclass
class Report:
    problems: list = field(default_factory=list)  # [Problem]
    app: App = None  # set when the manifest's shape was readable
    board: object = None  # boards.Board, when known
    source: str = ""

    @property
    def ok(self):
        return not self.problems

    def summary(self):
        """The one-line verdict of a clean app (keep check's "ok: ..." line)."""
        a, b = self.app, self.board
        total, _ = rules.heap_estimate(a, b)
        grants = sum(len(t.grants) for t in a.tasks)
        regions = [r for t in a.tasks for r in t.regions]
        return (f"ok: {len(a.tasks)} tasks, {grants} grants, {len(regions)} regions "
                f"({sum(r.size for r in regions)} bytes), heap estimate {total} of "
                f"{b.heap_bytes} bytes on {b.name} ({a.name})")

    def table(self, monolithic=False):
        if not self.ok:
            raise ManifestError(self.problems, self.source)
        return table.render(self.app, self.board, self.source, monolithic)


def resolve_app(app, apps_root=None):
    """App name, app directory or app.toml path -> the app.toml Path."""
    p = Path(app)
    if p.suffix == ".toml":
        if not p.is_file():
            raise KeepError(f"{p}: no such file")
        return p
    if p.is_dir() and (p / "app.toml").is_file():
        return p / "app.toml"
    root = Path(apps_root or paths.APPS)
    cand = root / str(app) / "app.toml"
    if cand.is_file():
        return cand
    known = sorted(d.name for d in root.glob("*") if (d / "app.toml").is_file())
    raise KeepError(f'unknown app "{app}" (apps in {root}: {", ".join(known) or "none"}; '
                    "or give a path to app.toml)")


def check_app(app, board=None, apps_root=None, boards_root=None, roots=None, wiring=None):
    """Check an app by name or path; `board` overrides the manifest's."""
    path = resolve_app(app, apps_root)
    return check_text(path.read_text(errors="replace"), board=board, app_dir=path.parent,
                      source=str(path), boards_root=boards_root, roots=roots, wiring=wiring)


def check_text(text, board=None, app_dir=None, source="app.toml", boards_root=None,
               roots=None, wiring=None):
    data, problem = parse(text, Path(source).name)
    if problem:
        return Report([problem], source=source)
    return check_data(data, board=board, app_dir=app_dir, source=source,
                      boards_root=boards_root, roots=roots, wiring=wiring)


def check_data(data, board=None, app_dir=None, source="app.toml", boards_root=None,
               roots=None, wiring=None):
    """Check parsed TOML. `roots` are where entry modules are looked for
    (default: firmware/), then `app_dir`. wiring: None, or a wiring overlay
    (wiring.BOARD: the board's own [test_wiring]; else an overlay file's
    path) the manifest is rewired with for the board (wiring.py); a bad
    overlay file is a KeepError, not a problem of the manifest."""
    r = Reader()
    board_name = board
    if board_name is None:
        board_name = r.str_(data, "board", "")
    elif "board" in data and not isinstance(data["board"], str):
        r.str_(data, "board", "")
    b = None
    if board_name is not None:
        try:
            b = load_board(board_name, boards_root)
        except KeepError as err:
            r.add("board" if board is None else "--board", str(err))
    if wiring is not None and b is not None:
        data = overlay(data, b, wiring, boards_root)
    app = schema.read_app(r, data, board_name, b)
    declared = set((data.get("tasks") or {}) if isinstance(data.get("tasks"), dict) else ())
    roots = [paths.FIRMWARE] if roots is None else roots
    problems = r.problems + list(rules.check(app, b, declared, app_dir, roots))
    return Report(problems, app=app, board=b, source=source)


def compile_app(app, board=None, **kw):
    """app_table.py source for an app, or ManifestError listing its problems."""
    return check_app(app, board=board, **kw).table()
