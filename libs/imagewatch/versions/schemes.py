"""The version schemes by name, and the scheme of an OSV ecosystem.

Which ecosystem uses which scheme is declared once, in the ecosystems
catalog (``imagewatch.ecosystems.catalog``); this module holds the schemes.
"""

from __future__ import annotations

from imagewatch.ecosystems.catalog import UnknownEcosystem, base_ecosystem, scheme_name, scheme_names
from imagewatch.versions.apk import Apk
from imagewatch.versions.base import VersionScheme
from imagewatch.versions.composer import Composer
from imagewatch.versions.dpkg import Dpkg
from imagewatch.versions.go import Go
from imagewatch.versions.maven import Maven
from imagewatch.versions.nuget import NuGet
from imagewatch.versions.pep440 import Pep440
from imagewatch.versions.rpm import Rpm
from imagewatch.versions.rubygems import RubyGems
from imagewatch.versions.semver import SemVer

__all__ = ["ECOSYSTEMS", "SCHEMES", "UnknownEcosystem", "base_ecosystem", "scheme_for"]


def _register(*schemes: VersionScheme) -> dict[str, VersionScheme]:
    out: dict[str, VersionScheme] = {}
    for scheme in schemes:
        if scheme.name in out:
            raise ValueError(f"versions: duplicate scheme {scheme.name!r}")
        out[scheme.name] = scheme
    return out


SCHEMES: dict[str, VersionScheme] = _register(
    Pep440(), SemVer(), Go(), Maven(), RubyGems(), NuGet(), Composer(), Dpkg(), Rpm(), Apk(),
)

ECOSYSTEMS: dict[str, str] = scheme_names()
"""OSV ecosystem name (the part before any ``:release``) -> scheme name (from the catalog)."""

_missing = sorted({name for name in ECOSYSTEMS.values()} - set(SCHEMES))
if _missing:
    raise ValueError(f"versions: the ecosystems catalog names unknown schemes {_missing}")


def scheme_for(ecosystem: str) -> VersionScheme:
    """The version scheme of an OSV ecosystem, release suffix allowed (``Alpine:v3.19``).

    Raises UnknownEcosystem when none is registered.
    """
    return SCHEMES[scheme_name(ecosystem)]
