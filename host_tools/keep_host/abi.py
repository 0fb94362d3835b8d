"""The firmware's ABI module, loaded by path so host and board share one copy.

firmware/keep/abi.py is MicroPython source with a `const` shim for CPython;
this module executes that file and re-exports every public name, so
`from keep_host import abi; abi.TR_SEND` is the number the kernel writes.

Invariant: nothing here defines a number of its own.
"""

import importlib.util

from .paths import FIRMWARE

ABI_PATH = FIRMWARE / "keep" / "abi.py"


def _load():
    spec = importlib.util.spec_from_file_location("_keep_firmware_abi", ABI_PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_mod = _load()
globals().update({k: v for k, v in vars(_mod).items()
                  if not k.startswith("_") and k != "const"})
