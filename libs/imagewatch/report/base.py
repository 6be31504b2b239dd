"""The one Protocol every output format implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from imagewatch.report.result import ScanResult
from imagewatch.errors import ImagewatchError


class ReportError(ImagewatchError, ValueError):
    """A report cannot be produced (unknown format, inconsistent registry)."""


@runtime_checkable
class Formatter(Protocol):
    """Turns a ``ScanResult`` into the bytes of one output format.

    ``name`` is what ``--format`` accepts; ``media_type`` is the HTTP content type
    the API serves it with. ``color`` only matters to formats meant for a
    terminal; the others ignore it. Rendering is pure: same result, same bytes.
    """

    name: str
    media_type: str

    def render(self, result: ScanResult, *, color: bool = False) -> bytes: ...
