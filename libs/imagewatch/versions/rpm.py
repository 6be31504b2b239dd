"""RPM versions ``[epoch:]version[-release]`` ordered by rpmvercmp: ``~`` before
everything, ``^`` after the end but before any other character; via ``univers`` (a port
of rpm's own rpmvercmp).
"""

from __future__ import annotations

from univers.versions import RpmVersion

from imagewatch.versions.base import KeyedScheme


class Rpm(KeyedScheme):
    """RPM versions ``[epoch:]version[-release]`` ordered by rpmvercmp: ``~`` before everything."""

    name = "rpm"

    def parse(self, version: str) -> RpmVersion:
        return RpmVersion(version)
