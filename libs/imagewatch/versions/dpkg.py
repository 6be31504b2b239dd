"""Debian/Ubuntu package versions: ``[epoch:]upstream[-revision]``, with ``~`` sorting
before everything, even the end of the string, as in dpkg's verrevcmp; via ``univers``
(a port of python-debian).
"""

from __future__ import annotations

from univers.versions import DebianVersion

from imagewatch.versions.base import KeyedScheme


class Dpkg(KeyedScheme):
    """Debian/Ubuntu package versions: ``[epoch:]upstream[-revision]``."""

    name = "dpkg"

    def parse(self, version: str) -> DebianVersion:
        return DebianVersion(version)
