"""bench/results.json: every benchmark merges its own keys, nothing else.

One writer for the file so each bench replaces only the figures it
measured, atomically (write beside, then rename).
"""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def load(path=RESULTS):
    try:
        return json.loads(Path(path).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def merge(figures, path=RESULTS):
    """Replace `figures`' keys in the results file; return the whole file."""
    path = Path(path)
    data = load(path)
    data.update(figures)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return data
