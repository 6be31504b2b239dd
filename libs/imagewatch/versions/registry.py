"""The one registry of version schemes and the OSV ecosystems that use them."""

from __future__ import annotations

from .apk import Apk
from .base import VersionScheme
from .composer import Composer
from .dpkg import Dpkg
from .go import Go
from .maven import Maven
from .nuget import NuGet
from .pep440 import Pep440
from .rpm import Rpm
from .rubygems import RubyGems
from .semver import SemVer


class UnknownEcosystem(LookupError):
    """No version scheme is registered for an ecosystem."""


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

# OSV ecosystem name (the part before any ":release") -> scheme name.
ECOSYSTEMS: dict[str, str] = {
    "PyPI": "pep440",
    "npm": "semver",
    "crates.io": "semver",
    "Hex": "semver",
    "Pub": "semver",
    "Bitnami": "semver",
    "SwiftURL": "semver",
    "Go": "go",
    "Maven": "maven",
    "RubyGems": "rubygems",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "openSUSE": "rpm",
    "SUSE": "rpm",
    "Mageia": "rpm",
    "openEuler": "rpm",
    "Photon OS": "rpm",
    "Azure Linux": "rpm",
}


def base_ecosystem(ecosystem: str) -> str:
    """The ecosystem without its release suffix: ``Debian:12`` -> ``Debian``."""
    return ecosystem.split(":", 1)[0]


def scheme_for(ecosystem: str) -> VersionScheme:
    """The version scheme of an OSV ecosystem, release suffix allowed (``Alpine:v3.19``).

    Raises UnknownEcosystem when none is registered.
    """
    try:
        return SCHEMES[ECOSYSTEMS[base_ecosystem(ecosystem)]]
    except KeyError:
        raise UnknownEcosystem(f"versions: no version scheme for ecosystem {ecosystem!r}") from None
