"""The board's boot.py (keep deploy writes it): the app keep deploy switched
in last goes first in sys.path, on every boot, the raw REPL's too, so
main.py's import of the kernel and a tool's imports find that app.

keep.slot names it: /keep-a or /keep-b, a folder holding the whole app, or
/rom, the ROMFS image (docs/deploy.md, "All or nothing"). keep.slot.tmp is
read only when keep.slot is missing: a FAT filesystem removes the old
keep.slot before it renames the new one in, which is whole by then.
Nothing of this file stays in the heap once it has run.
"""

import sys

for f in ("keep.slot", "keep.slot.tmp"):
    try:
        with open(f) as f:
            sys.path.insert(0, f.read())
        break
    except OSError:
        pass
del f
