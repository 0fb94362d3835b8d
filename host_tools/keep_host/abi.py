"""The firmware's ABI module, loaded by path so host and board share one copy.

firmware/keep/abi.py is MicroPython source with a `const` shim for CPython;
this module executes that file and re-exports every public name, so
`from keep_host import abi; abi.TR_SEND` is the number the kernel writes.

Invariant: nothing here defines a number of its own.
"""

import importlib.util

from .paths import FIRMWARE

ABI_PATH = FIRMWARE / "keep" / "abi.py"
NAMES_PATH = FIRMWARE / "keep" / "abinames.py"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


for _mod in (_load(ABI_PATH, "_keep_firmware_abi"), _load(NAMES_PATH, "_keep_firmware_abinames")):
    globals().update({k: v for k, v in vars(_mod).items()
                      if not k.startswith("_") and k != "const"})
