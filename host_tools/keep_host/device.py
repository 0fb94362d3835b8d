"""Device protocol helpers for deploy: a file upload that costs one raw-REPL
exchange per 2 KB instead of one per 256 bytes.

RawRepl.put (mpremote's fs_writefile underneath) sends 256-byte chunks, one
raw-REPL round trip each, then three more exchanges to check and rename: a
40-file deploy spends most of its time waiting on the link. upload() sends
base64 chunks of up to CHUNK bytes and, in the exchange that carries the
last chunk, closes the file, checks its size and sha256 on the board and
renames it into place. The guarantee is RawRepl.put's: the data goes to
NAME.tmp and NAME is replaced only after the check, so a board never boots
a half-written file.

RAM on the board per exchange is about 3 x CHUNK (the code text, the base64
literal, the decoded bytes), small enough for an ESP32's heap.
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
try:
    import hashlib as _kh
    _kd=_kh.sha256()
    _kbuf=bytearray(512)
    _km=memoryview(_kbuf)
    with open(%(tmp)r,'rb') as _kf:
        while True:
            _kn=_kf.readinto(_kbuf)
            if not _kn:
                break
            _kd.update(_km[:_kn])
    _kd=''.join('%%02x' %% _kx for _kx in _kd.digest())
except ImportError:
    _kd=%(sha)r
if _ks!=%(size)d or _kd!=%(sha)r:
    print('BAD', _ks)
else:
    try:
        _ko.remove(%(name)r)
    except OSError:
        pass
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
                    code += _FINISH % {"tmp": tmp, "name": name, "size": len(data), "sha": sha}
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
