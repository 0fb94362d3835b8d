"""The board side of an all-or-nothing deploy: two slots and one switch.

The board's filesystem (paths relative to its root):

    boot.py          firmware/boot.py: reads keep.slot, puts what it names
                     first in sys.path (every boot, the raw REPL's too)
    main.py          firmware/main.py: starts runtime.boot
    keep.slot        the app that boots: "/keep-a" or "/keep-b" (a folder), or
                     "/rom" (the ROMFS image, `keep deploy --romfs`)
    keep-a/, keep-b/ one app each, whole: every module, app_table.mpy and the
                     record .keep_deploy.json (app, board, files)
    romfs.img        --romfs: the ROMFS partition (a file on the virtual board)

A deploy stages the new app where nothing boots from (the inactive folder:
files already there with the right sha256 stay, the active app's unchanged
files are copied on the board, the rest is uploaded; or the ROMFS image),
checks the staged folder holds exactly the plan, then writes keep.slot by
one rename: that rename is the switch. Only then is the old app removed.
Every file is written as NAME.tmp, its size and sha256 checked on the
board, then renamed over NAME (device.py), so no name ever holds half a
file.

An interruption anywhere therefore leaves keep.slot naming a complete app:
the old one until the switch, the new one from it on. Leftovers (a half
staged folder, a .tmp) are never imported and the next deploy reuses or
removes them.

Renames replace their target in one step on LittleFS (rp2 and esp32
MicroPython's default filesystem) and on the virtual board (POSIX). FAT
removes the old name first: a cut between the two leaves no keep.slot but
a whole keep.slot.tmp, which main.py then reads and the next survey()
renames into place.

From a board deployed before slots existed (modules at the root and a
root .keep_deploy.json, no boot.py of Keep's): the new app is staged in
keep-a and keep.slot written, which nothing on that board reads yet, so it
still boots the old app; boot.py is then written (one rename: the switch),
and the root modules are removed last. A boot.py Keep did not write is
kept as boot.py.orig.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .device import SHA_HELPER, upload, upload_many
from .errors import KeepError

POINTER = "keep.slot"
SLOTS = ("keep-a", "keep-b")
ROM = "/rom"
ROMFS_IMAGE = "romfs.img"  # where the virtual board keeps its ROMFS partition
RECORD = ".keep_deploy.json"  # in each slot (and in the image): what app this is
COPY_BYTES = 32768  # bytes copied on the board per exchange
# On the board, before any file is opened: the unix port's VfsPosix mounted
# at / refuses os.rename with absolute paths, so every path here is relative.
_ROOT = ROOT_CODE = "import os\nos.chdir('/')\n"

def pointer(location):
    """What keep.slot holds for a slot folder ("keep-a") or ROM."""
    return location if location == ROM else "/" + location


# The board's file listing: `F path size sha256` (sha "-" when not hashed
# or without hashlib) and `D folder`, for the survey and the staged check.
_WALK = _ROOT + SHA_HELPER + r"""import sys
def _k_out(p, hash):
    try:
        sz = os.stat(p)[6]
    except OSError:
        return
    print('F', p, sz, (_ksha(p) if hash else None) or '-')
def _k_walk(d, hash):
    try:
        es = [(e[0], e[1]) for e in os.ilistdir(d)]
    except OSError:
        return
    print('D', d)
    for n, t in es:
        if t & 0x4000:
            _k_walk(d + '/' + n, hash)
        else:
            _k_out(d + '/' + n, hash)
"""
# One exchange: the .mpy version, the active app (after repairing a switch
# a FAT rename cut short), and size and sha256 of every file in both slots
# and of the boot files and romfs.img; the apps' records.
_SURVEY = _WALK + r"""def _k_slot(n):
    try:
        with open(n) as f:
            s = f.read()
    except OSError:
        return None
    return s if s in PTRS else ''
a = _k_slot(POINTER)
if a is None and _k_slot(POINTER + '.tmp'):
    os.rename(POINTER + '.tmp', POINTER)
    a = _k_slot(POINTER)
try:
    import hashlib
except ImportError:
    hashlib = None
print('MPY', getattr(sys.implementation, '_mpy', -1), int(hashlib is not None))
print('ACT', a or '-')
for d in DIRS:
    _k_walk(d, True)
for n in HASH:
    _k_out(n, True)
for n in SIZE:
    _k_out(n, False)
for n in RECS:
    try:
        with open(n) as f:
            print('REC', n, f.read().replace('\n', ' '))
    except OSError:
        pass
"""


@dataclass
class Survey:
    mpy: int = None  # sys.implementation._mpy, None if the board does not say
    hashlib: bool = True
    active: str = None  # "keep-a", "keep-b", ROM, or None (no keep.slot: none, or a pre-slot deploy)
    files: dict = field(default_factory=dict)  # board path -> [size, sha256 or None]
    dirs: set = field(default_factory=set)  # folders under the slots
    records: dict = field(default_factory=dict)  # record path -> dict (None: unreadable)

    def slot(self, name):
        """{path in the slot: [size, sha]} of slot `name`."""
        pre = name + "/"
        return {p[len(pre):]: i for p, i in self.files.items() if p.startswith(pre)}

    def record(self, location):
        """The record of the app at `location` (slot folder or ROM), or of a
        pre-slot deploy (None): a dict, or None."""
        path = {None: RECORD, ROM: f"{ROM}/{RECORD}"}.get(location, f"{location}/{RECORD}")
        return self.records.get(path)


def survey(repl, hash_image=False):
    """One exchange: what the board holds (see Survey)."""
    recs = [RECORD, f"{ROM}/{RECORD}"] + [f"{s}/{RECORD}" for s in SLOTS]
    hashed = ["boot.py", "main.py"] + ([ROMFS_IMAGE] if hash_image else [])
    code = (f"POINTER = {POINTER!r}\nPTRS = {[pointer(s) for s in (*SLOTS, ROM)]!r}\n"
            f"DIRS = {list(SLOTS)!r}\nHASH = {hashed!r}\n"
            f"SIZE = {[] if hash_image else [ROMFS_IMAGE]!r}\nRECS = {recs!r}\n" + _SURVEY)
    out = repl.exec(code, timeout=120).decode(errors="replace").splitlines()
    sv = Survey()
    seen = set()
    try:
        for line in out:
            kind, _, rest = line.strip().partition(" ")
            if kind == "MPY":
                mpy, has = rest.split()
                sv.mpy = None if int(mpy) < 0 else int(mpy)
                sv.hashlib = has == "1"
            elif kind == "ACT":
                sv.active = None if rest == "-" else rest.lstrip("/") if rest != ROM else ROM
            elif kind == "F":
                name, size, sha = rest.rsplit(" ", 2)
                sv.files[name] = [int(size), None if sha == "-" else sha]
            elif kind == "D":
                sv.dirs.add(rest)
            elif kind == "REC":
                name, _, text = rest.partition(" ")
                try:  # a damaged record only costs the names in messages
                    rec = json.loads(text)
                except ValueError:
                    rec = None
                sv.records[name] = rec if isinstance(rec, dict) else None
            else:
                continue
            seen.add(kind)
        if not {"MPY", "ACT"} <= seen:
            raise ValueError
    except ValueError:
        raise KeepError(f"the board's file listing was garbled ({out[-1][-60:] if out else ''!r}); "
                        "a damaged link? try again")
    return sv


def describe(sv, location):
    """`chaos from /keep-a`: the app at `location` as a user would name it."""
    if location is None:
        rec = sv.record(None)
        return f"{rec['app']} (deployed before slots)" if rec and rec.get("app") else "no app from keep deploy"
    rec = sv.record(location)
    name = rec.get("app") if rec else None
    return f"{name or 'an app'} from {pointer(location)}"


# ---- staging ---------------------------------------------------------------------------

_RMTREE = _ROOT + """def _krm(p):
    try:
        st = os.stat(p)[0]
    except OSError:
        return
    if st & 0x4000:
        for n in [e[0] for e in os.ilistdir(p)]:
            _krm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for p in %r:
    _krm(p)
"""

_COPY = _ROOT + """def _kcp(s, d):
    b = bytearray(512)
    m = memoryview(b)
    with open(s, 'rb') as fi:
        with open(d + '.tmp', 'wb') as fo:
            while True:
                n = fi.readinto(b)
                if not n:
                    break
                fo.write(m[:n])
"""


def want(data, hashed):
    """What the survey shows for a file holding `data`: [size, sha256 or None]."""
    return [len(data), hashlib.sha256(data).hexdigest() if hashed else None]


def parents(names):
    """Every folder above `names` (board paths), shallowest first."""
    out = set()
    for n in names:
        for p in PurePosixPath(n).parents:
            if str(p) != ".":
                out.add(str(p))
    return sorted(out, key=lambda s: (s.count("/"), s))


def stage(repl, slot, files, sv, note):
    """Make folder `slot` hold exactly `files` ({path in the slot: bytes}),
    every file verified: those already there stay, the active slot's
    unchanged ones are copied on the board, the rest is uploaded. Returns
    (uploaded, not uploaded) names."""
    have = sv.slot(slot)
    source = sv.slot(sv.active) if sv.active in SLOTS and sv.active != slot else {}
    wanted = {n: want(d, sv.hashlib) for n, d in files.items()}
    extra = [f"{slot}/{n}" for n in have if n not in files]
    needed = {f"{slot}/{d}" for d in parents(files)} | {slot}
    extra += sorted((d for d in sv.dirs if d.startswith(slot + "/") and d not in needed),
                    key=lambda d: -d.count("/"))
    if extra:  # leftovers of an interrupted deploy, or of the app this slot held before
        repl.exec(_RMTREE % (extra,), timeout=60)
    if not needed <= sv.dirs:
        repl.exec(_ROOT + "for d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n"
                  % sorted(needed, key=lambda s: (s.count("/"), s)))
    kept = [n for n in files if have.get(n) == wanted[n]]
    copies = [n for n in files if n not in kept and source.get(n) == wanted[n]]
    for n in kept:
        note("skip", n, len(files[n]))
    _copy(repl, slot, sv.active, copies, wanted, note)
    todo = {f"{slot}/{n}": files[n] for n in files if n not in kept and n not in copies}
    start = len(slot) + 1
    uploaded = upload_many(repl, todo, progress=lambda p: note("upload", p[start:], len(todo[p])))
    return [p[start:] for p in uploaded], kept + copies


def _copy(repl, slot, source, names, wanted, note):
    """Copy `names` from folder `source` to folder `slot` on the board,
    several to an exchange, each verified and renamed as an upload is."""
    from .device import _MANY_HELPERS, _many_exchange

    if not names:
        return
    repl.exec(_MANY_HELPERS + _COPY, timeout=30)
    todo = {f"{slot}/{n}": None for n in names}
    batch, code, size = [], "", 0
    for i, n in enumerate(names):
        dst = f"{slot}/{n}"
        code += "_kcp(%r,%r)\n_kd(%r,%d,%r)\n" % (f"{source}/{n}", dst, dst, *wanted[n])
        batch.append(dst)
        size += wanted[n][0]
        if size >= COPY_BYTES or i == len(names) - 1:
            _many_exchange(repl, code, batch, todo, [],
                           lambda p: note("skip", p[len(slot) + 1:], wanted[p[len(slot) + 1:]][0]))
            batch, code, size = [], "", 0


def _listing(out):
    """{path: [size, sha256 or None]} from _WALK's `F` lines."""
    files = {}
    for line in out.decode(errors="replace").splitlines():
        kind, _, rest = line.strip().partition(" ")
        if kind == "F":
            name, size, sha = rest.rsplit(" ", 2)
            files[name] = [int(size), None if sha == "-" else sha]
    return files


def file_info(repl, names):
    """One exchange: {name: [size, sha256 or None]} of the `names` the board has."""
    return _listing(repl.exec(_WALK + "for n in %r:\n    _k_out(n, True)\n" % (list(names),),
                              timeout=120))


def check_staged(repl, slot, files):
    """One exchange: the folder holds exactly `files`, at their sizes (each
    was verified by sha256 as it was written); KeepError otherwise."""
    listed = _listing(repl.exec(_WALK + f"_k_walk({slot!r}, False)\n", timeout=60))
    got = {name[len(slot) + 1:]: info[0] for name, info in listed.items()}
    sizes = {n: len(d) for n, d in files.items()}
    if got != sizes:
        bad = sorted(set(got) ^ set(sizes)) or sorted(n for n in sizes if got[n] != sizes[n])
        raise KeepError(f"the staged app in /{slot} is not what was sent ({bad[0]}); "
                        "nothing was switched: run keep deploy again")


def keep_users_boot(repl, note):
    """A boot.py that Keep did not write (it does not read keep.slot) is
    kept as boot.py.orig before Keep's replaces it (once: an older
    boot.py.orig stays)."""
    out = repl.exec(_ROOT + "t = open('boot.py').read()\n"
                    "if 'keep.slot' not in t and 'boot.py.orig' not in os.listdir():\n"
                    " os.rename('boot.py', 'boot.py.orig')\n print('KEPT')\n")
    if b"KEPT" in out:
        note("kept", "boot.py.orig", 0)


def switch(repl, location):
    """The switch: keep.slot names `location`, by one verified rename."""
    upload(repl, POINTER, pointer(location).encode())


def reclaim(repl, sv, location):
    """Remove every app but the one at `location`: the other slot, the
    ROMFS image when a folder is active, a pre-slot deploy's root modules
    (and their .py twins), a keep.slot.tmp left over."""
    gone = [s for s in SLOTS if s != location and (s in sv.dirs)]
    if location != ROM and ROMFS_IMAGE in sv.files:
        gone.append(ROMFS_IMAGE)
    legacy = sv.record(None)
    if legacy is not None or RECORD in sv.records:
        old = [n for n in (legacy or {}).get("files", ()) if n not in ("main.py", ROMFS_IMAGE)]
        old += [n[:-4] + ".py" for n in old if n.endswith(".mpy")]
        gone += old + [RECORD]
        # then the folders they leave empty, deepest first (rmdir of a full one fails)
        empty = sorted(parents(old), key=lambda d: -d.count("/"))
    else:
        empty = []
    gone.append(POINTER + ".tmp")
    repl.exec((_RMTREE % (gone,)) + "for d in %r:\n try:\n  os.rmdir(d)\n except OSError:\n  pass\n"
              % (empty,), timeout=120)
