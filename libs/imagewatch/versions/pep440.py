"""PEP 440 versions (PyPI), ordered by ``packaging`` — the reference implementation pip uses."""

from __future__ import annotations

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from imagewatch.versions.base import InvalidVersion, KeyedScheme


class Pep440(KeyedScheme):
    """PEP 440: epochs, pre/post/dev releases, local versions, ``1.0 == 1.0.0``."""

    name = "pep440"

    def parse(self, version: str) -> Version:
        try:
            return Version(version)
        except _PackagingInvalid as exc:
            raise InvalidVersion(self.name, version, str(exc)) from None
