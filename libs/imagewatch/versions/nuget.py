"""NuGet versions (SemVer 2 plus a fourth number; case-insensitive pre-release labels;
``1.0.0.0 == 1.0.0``), via ``univers``.
"""

from __future__ import annotations

from univers.versions import NugetVersion

from imagewatch.versions.base import KeyedScheme


class NuGet(KeyedScheme):
    """NuGet versions (SemVer 2 plus a fourth number; case-insensitive pre-release labels; ``1.0.0.0 == 1.0.0``)."""

    name = "nuget"

    def parse(self, version: str) -> NugetVersion:
        return NugetVersion(version)
