"""The firmware's ABI module, loaded by path so host and board share one copy.

firmware/keep/abi.py is MicroPython source with a `const` shim for CPython;
this module executes that file and re-exports every public name, so
`from keep_host import abi; abi.TR_SEND` is the number the kernel writes.
The names (RC_NAMES, TR_NAMES, ...) come from keep/abinames.py, which
`make abi` generates from abi.py; OPS names each server's ops, read from its
protocols/<server>.toml (docs/abi.md).

Invariant: nothing here defines a number of its own.
"""

import importlib.util
import sys
import types

from .paths import FIRMWARE

ABI_PATH = FIRMWARE / "keep" / "abi.py"
NAMES_PATH = FIRMWARE / "keep" / "abinames.py"


# abinames.py re-exports faultnames.py with a relative import, so the files
# load as modules of a stand-in package whose path is firmware/keep.
_PKG = "_keep_firmware"
if _PKG not in sys.modules:
    _pkg = types.ModuleType(_PKG)
    _pkg.__path__ = [str(FIRMWARE / "keep")]
    sys.modules[_PKG] = _pkg


def _load(path, name):
    spec = importlib.util.spec_from_file_location(_PKG + "." + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


for _mod in (_load(ABI_PATH, "abi"), _load(NAMES_PATH, "abinames")):
    globals().update({k: v for k, v in vars(_mod).items()
                      if not k.startswith("_") and k != "const"})


def _ops():
    """{server: {op number: op name}} from protocols/*.toml."""
    from .abigen import load_protocols
    from .paths import ROOT

    return {name: {op["number"]: op["name"] for op in table.get("op", ())}
            for name, table in load_protocols(ROOT).items()}


OPS = _ops()
