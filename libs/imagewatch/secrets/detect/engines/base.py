"""The prefilter protocol shared by the engines."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from imagewatch.errors import ImagewatchError

WHOLE_FILE = -1


class PrefilterError(ImagewatchError, RuntimeError):
    """A prefilter could not be built or run."""


@runtime_checkable
class Prefilter(Protocol):
    """Finds where rules may match, in one pass over a file.

    ``hits`` returns ``(rule_index, offset)`` pairs: ``offset`` is the end of a
    keyword or anchor hit, or ``WHOLE_FILE`` when the engine cannot narrow the
    rule down and the full regex must run over the whole file. Every true match
    of a rule contains at least one of its hits.
    """

    name: str

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """Return the candidate (rule index, offset) pairs for ``data``."""
        ...
