"""Task names for the host views: `--names 0=supervisor,1=gpio` or a JSON file."""

import json
from pathlib import Path

from ..errors import UsageError

MAX_SLOT = 255  # a trace record's task field is one byte


def _slot(text, spec):
    text = str(text).strip()
    if not text.isdigit() or int(text) > MAX_SLOT:
        raise UsageError(f"--names {spec!r}: {text!r} is not a task slot (0..{MAX_SLOT}); "
                         "expected SLOT=NAME,... e.g. 0=supervisor,1=gpio, or a JSON file")
    return int(text)


def parse_names(spec):
    """{slot: name} from "0=supervisor,1=gpio", a JSON file {"0": "supervisor"}, or None."""
    if not spec:
        return {}
    if Path(spec).is_file():
        try:
            data = json.loads(Path(spec).read_text())
        except (OSError, UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise UsageError(f"--names {spec}: not a JSON object of slot -> name, "
                             'e.g. {"0": "supervisor", "1": "gpio"}')
        return {_slot(k, spec): str(v) for k, v in data.items()}
    out = {}
    for part in spec.split(","):
        slot, eq, name = part.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--names {spec!r}: {part!r} is not SLOT=NAME "
                             "(e.g. 0=supervisor,1=gpio), and no file has that name")
        out[_slot(slot, spec)] = name.strip()
    return out
