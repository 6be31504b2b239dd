"""Export the JSON Schema of every bus message to ``docs/schemas/<subject>.json``.

Run ``python -m imagewatch.cli.schemas [DIR]`` after changing a message type.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from imagewatch.messages import json_schemas


def export(directory: Path) -> list[Path]:
    """Write one schema file per subject; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for subject, schema in json_schemas().items():
        path = directory / f"{subject}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in export(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(p)
