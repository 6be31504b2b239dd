"""The package analyser Protocol.

An analyser names the files it wants; the layer reader extracts only those
(into a private temporary directory, within limits) and hands them over as a
mapping from image path (no leading slash, e.g. ``var/lib/dpkg/status``) to the
extracted file on disk. Nothing found is an empty list, never an error.
Results are cached per (layer diff_id, analyser name, analyser version):
bump ``version`` to force a re-analysis by that analyser only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from imagewatch.models import Package


@runtime_checkable
class Analyser(Protocol):
    """Finds packages of one kind in the files of one layer."""

    name: str
    version: int
    kind: Literal["os", "lang"]

    def wants(self, path: str, size: int) -> bool:
        """Whether the file at ``path`` (image path, no leading slash) is needed."""
        ...

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Packages found in the wanted files of one layer; ``layer`` is filled by the caller."""
        ...


@runtime_checkable
class ReportsSkips(Protocol):
    """An analyser that says what it could not read (over a budget, damaged): the scan is then partial."""

    def analyse_with_skips(self, files: Mapping[str, Path]) -> tuple[list[Package], list[str]]:
        """Packages, and one line per file or part of a file left unread (with the reason)."""
        ...
