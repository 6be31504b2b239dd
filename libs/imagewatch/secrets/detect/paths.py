"""Image path globs compiled into one regex, for path-aware allow rules.

Globs are matched against whole image paths (``usr/lib/python3/dist-packages/x.py``,
no leading ``/``): ``**`` spans any number of directories (``**/`` also none),
``*`` and ``?`` stay inside one path component, ``[...]`` is a character class.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from imagewatch.secrets.detect.rule import RuleError


def glob_regex(glob: str) -> str:
    """The regex source (unanchored) of one image path glob; ``RuleError`` when malformed."""
    if not glob or glob.startswith("/") or "//" in glob:
        raise RuleError(f"secrets: bad path glob {glob!r} (image paths are relative, no empty parts)")
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append(r"(?:[^/]+/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(r".*")
            i += 2
        elif glob[i] == "*":
            out.append(r"[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append(r"[^/]")
            i += 1
        elif glob[i] == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                raise RuleError(f"secrets: bad path glob {glob!r}: unclosed '['")
            body = glob[i + 1:end].replace("\\", "\\\\")
            out.append("[^/" + body[1:] + "]" if body[0] == "!" else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


class PathGlobs:
    """A set of image path globs; ``match(path)`` says whether any of them covers ``path``."""

    def __init__(self, globs: Sequence[str]) -> None:
        self.globs = tuple(globs)
        parts = [glob_regex(g) for g in self.globs]
        self._regex = re.compile("(?:" + "|".join(parts) + r")\Z", re.DOTALL) if parts else None

    def match(self, path: str) -> bool:
        """True when a glob covers ``path`` (a leading ``/`` or ``./`` is ignored)."""
        if self._regex is None:
            return False
        if path.startswith("./"):
            path = path[2:]
        return self._regex.match(path.lstrip("/")) is not None
