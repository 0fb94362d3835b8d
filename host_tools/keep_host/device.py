"""Device protocol helpers for deploy: a file upload that costs one raw-REPL
exchange per 2 KB instead of one per 256 bytes.

RawRepl.put (mpremote's fs_writefile underneath) sends 256-byte chunks, one
raw-REPL round trip each, then three more exchanges to check and rename: a
40-file deploy spends most of its time waiting on the link. upload() sends
base64 chunks of up to CHUNK bytes and, in the exchange that carries the
last chunk, closes the file, checks its size and sha256 on the board and
renames it into place. The guarantee is RawRepl.put's: the data goes to
NAME.tmp and NAME is replaced only after the check, so a board never boots
a half-written file. The rename replaces NAME in one step (no remove
first): on LittleFS and POSIX no moment exists without NAME, which makes
it the switch of an all-or-nothing deploy (slots.py).

RAM on the board per exchange is about 3 x CHUNK (the code text, the base64
literal, the decoded bytes), small enough for an ESP32's heap.

upload_many() writes many files with the same guarantee in a few
exchanges (several small files to one), for deploys of dozens of modules.
"""

import base64
import hashlib

from .errors import KeepError
from .repl import ReplExecError

CHUNK = 2048
ATTEMPTS = 3

_OPEN = "import binascii as _kb\n_kf=open(%r,'wb')\n"
_WRITE = "_kf.write(_kb.a2b_base64(%r))\n"
_FINISH = """_kf.close()
del _kf, _kb
import os as _ko
_ks=_ko.stat(%(tmp)r)[6]
_kd=_ksha(%(tmp)r) or %(sha)r
if _ks!=%(size)d or _kd!=%(sha)r:
    print('BAD', _ks)
else:
    _ko.rename(%(tmp)r, %(name)r)
    print('OK')
"""


def upload(repl, name, data, chunk=CHUNK, attempts=ATTEMPTS):
    """Write data to NAME on the board through NAME.tmp, verified; returns len(data)."""
    data = bytes(data)
    tmp = name + ".tmp"
    sha = hashlib.sha256(data).hexdigest()
    last = None
    for _ in range(attempts):
        try:
            code = _OPEN % tmp
            pos = 0
            while True:
                part = data[pos:pos + chunk]
                pos += len(part)
                if part:
                    code += _WRITE % base64.b64encode(part).decode()
                if pos >= len(data):
                    code += SHA_HELPER + _FINISH % {"tmp": tmp, "name": name, "size": len(data), "sha": sha}
                out = repl.exec(code, timeout=30).decode(errors="replace").strip()
                if pos >= len(data):
                    break
                code = ""
            if out.endswith("OK"):
                return len(data)
            last = f"{name}: the board holds {out.split()[-1] if out else '?'} bytes after the copy, not {len(data)}"
        except ReplExecError as err:
            if "ENOSPC" in str(err) or "28" in str(err):
                raise KeepError(f"{name}: the board's filesystem is full ({err})")
            raise KeepError(f"{name}: {err}")
        except KeepError as err:  # link trouble: RawRepl re-enters on the next exec
            last = str(err)
    raise KeepError(f"could not write {name} after {attempts} attempts: {last}")


# ---- many files, few exchanges -------------------------------------------------------

# Defined on the board once per upload_many() call: each exchange then
# carries only calls and base64 text. _kw appends a chunk to NAME.tmp;
# _kd checks its size and sha256 and renames it into place, printing one
# line per file: "OK NAME" or "BAD NAME SIZE".
# On the board: the sha256 of a file as hex, None without hashlib (then
# sizes alone are compared). Also slots.py's listing.
SHA_HELPER = """def _ksha(p):
    try:
        import hashlib
    except ImportError:
        return None
    h = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    with open(p, 'rb') as f:
        while True:
            k = f.readinto(b)
            if not k:
                break
            h.update(m[:k])
    return ''.join('%02x' % x for x in h.digest())
"""
_MANY_HELPERS = SHA_HELPER + """import binascii as _kb, os as _ko
def _kw(n, b, first):
    with open(n + '.tmp', 'wb' if first else 'ab') as f:
        f.write(_kb.a2b_base64(b))
def _kd(n, size, sha):
    t = n + '.tmp'
    s = _ko.stat(t)[6]
    d = _ksha(t) or sha
    if s != size or d != sha:
        print('BAD', n, s)
        return
    _ko.rename(t, n)
    print('OK', n)
"""
EXCHANGE_BYTES = 6144  # file bytes per exchange: ~3.5x that in board RAM while it runs


def upload_many(repl, files, exchange_bytes=EXCHANGE_BYTES, attempts=ATTEMPTS, progress=None):
    """upload() for many files at once: {name: bytes}, each written through
    NAME.tmp and renamed after its size and sha256 were checked on the board,
    several files to an exchange. The cost of an exchange is mostly fixed
    (the board compiles the code, a link round trip or three), so a deploy
    of small modules costs a few exchanges instead of one or more per file.
    progress(name) is called as each file lands. Returns the names written."""
    done = []
    todo = dict(files)
    for _ in range(attempts):
        try:
            repl.exec(_MANY_HELPERS, timeout=30)
            code, size = "", 0
            batch = []
            for name, data in list(todo.items()):
                for pos in range(0, max(len(data), 1), exchange_bytes):
                    part = data[pos:pos + exchange_bytes]
                    code += "_kw(%r,%r,%d)\n" % (name, base64.b64encode(part).decode(), pos == 0)
                    size += len(part)
                    if pos + exchange_bytes >= len(data):
                        code += "_kd(%r,%d,%r)\n" % (name, len(data), hashlib.sha256(data).hexdigest())
                        batch.append(name)
                    if size >= exchange_bytes:
                        _many_exchange(repl, code, batch, todo, done, progress)
                        code, size, batch = "", 0, []
            if code:
                _many_exchange(repl, code, batch, todo, done, progress)
            return done
        except ReplExecError as err:
            if "ENOSPC" in str(err) or "28" in str(err):
                raise KeepError(f"the board's filesystem is full ({err})")
            raise KeepError(str(err))
        except KeepError as err:  # link trouble or a bad copy: the files not yet written again
            last = str(err)
    raise KeepError(f"could not write {len(todo)} files after {attempts} attempts: {last}")


def _many_exchange(repl, code, batch, todo, done, progress):
    out = repl.exec(code, timeout=60).decode(errors="replace").split("\n")
    ok = {line.split()[1] for line in out if line.startswith("OK ")}
    bad = [name for name in batch if name not in ok]
    for name in batch:
        if name in ok:
            done.append(name)
            todo.pop(name, None)
            if progress:
                progress(name)
    if bad:
        raise KeepError(f"{bad[0]}: the board holds other bytes after the copy")
