"""Task names for the host views: `--names 0=supervisor,1=gpio` or a JSON file."""

import json
from pathlib import Path

from ..errors import UsageError


def parse_names(spec):
    """{slot: name} from "0=supervisor,1=gpio", a JSON file {"0": "supervisor"}, or None."""
    if not spec:
        return {}
    try:
        if Path(spec).is_file():
            data = json.loads(Path(spec).read_text())
            return {int(k): str(v) for k, v in data.items()}
        out = {}
        for part in spec.split(","):
            slot, name = part.split("=", 1)
            out[int(slot)] = name.strip()
        return out
    except (ValueError, AttributeError, OSError) as err:
        raise UsageError(f"--names {spec!r}: expected SLOT=NAME,... or a JSON file ({err})")
