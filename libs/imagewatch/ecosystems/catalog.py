"""The one catalog of ecosystems: every distribution, language, analyser and scheme choice.

Add an ecosystem by writing its folder (``__init__`` declares an
``Ecosystem``) and appending it to ``ECOSYSTEMS``; a duplicate name, os-release
ID or OSV ecosystem raises at import. Every lookup below reads this list:

* ``distro(os_id)`` / ``os_ecosystem(os)`` / ``ecosystem_and_release(os)``:
  ``debian`` 12 → ``Debian:12``, Alpine 3.19.1 → ``Alpine:v3.19``;
* ``scheme_name("Debian:12")`` → ``dpkg`` (``imagewatch.versions.scheme_for``
  turns it into the scheme);
* ``purl_rule(ecosystem)`` → purl type and namespace;
* ``default_analysers()`` → fresh analyser instances, OS first.

OS detection (``osrelease.detect_os``) is not an analyser: the OS is not a
package and the layer reader always extracts the os-release files.
"""

from __future__ import annotations

import importlib

from imagewatch.ecosystems import alpine, debian, dotnet, go, java, node, php, python, rpm, ruby, rust, sbom
from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.spec import Distro, Ecosystem, Language
from imagewatch.errors import ImagewatchError
from imagewatch.models import OSInfo

ECOSYSTEMS: tuple[Ecosystem, ...] = (
    debian.ECOSYSTEM, alpine.ECOSYSTEM, rpm.ECOSYSTEM,  # OS packages first
    python.ECOSYSTEM, node.ECOSYSTEM, go.ECOSYSTEM, java.ECOSYSTEM, ruby.ECOSYSTEM,
    php.ECOSYSTEM, dotnet.ECOSYSTEM, rust.ECOSYSTEM, sbom.ECOSYSTEM,
)

# OSV ecosystems we hold advisories for but read no packages of (no analyser finds them).
ADVISORY_ONLY: tuple[Language, ...] = (
    Language("Hex", "semver", "hex"),
    Language("Pub", "semver", "pub"),
    Language("Bitnami", "semver", "bitnami"),
    Language("SwiftURL", "semver", "swift", None),
)


class CatalogError(ImagewatchError, ValueError):
    """The catalog is inconsistent (duplicate name, ID or ecosystem; wrong analyser shape)."""


class UnknownEcosystem(ImagewatchError, LookupError):
    """No version scheme is registered for an ecosystem."""


def _index() -> tuple[dict[str, Distro], dict[str, str], dict[str, tuple[str, str | None, str]],
                      dict[str, Ecosystem]]:
    distros: dict[str, Distro] = {}
    schemes: dict[str, str] = {}
    purls: dict[str, tuple[str, str | None, str]] = {}
    families: dict[str, Ecosystem] = {}
    names: set[str] = set()
    for eco in ECOSYSTEMS:
        if eco.name in names:
            raise CatalogError(f"ecosystems: duplicate ecosystem {eco.name!r}")
        names.add(eco.name)
        if eco.family:
            families[eco.family] = eco
            schemes[eco.family] = eco.scheme
        for d in eco.distros:
            if d.os_id in distros or d.os_id != d.os_id.lower():
                raise CatalogError(f"ecosystems: os id {d.os_id!r} duplicate or not lower case")
            distros[d.os_id] = d
            schemes[d.ecosystem] = eco.scheme
            purls.setdefault(d.ecosystem, (eco.purl_type, d.purl_namespace, "/"))
    for lang in (*(lang for eco in ECOSYSTEMS for lang in eco.languages), *ADVISORY_ONLY):
        if lang.ecosystem in schemes:
            raise CatalogError(f"ecosystems: duplicate OSV ecosystem {lang.ecosystem!r}")
        schemes[lang.ecosystem] = lang.scheme
        purls[lang.ecosystem] = (lang.purl_type, lang.purl_namespace, lang.purl_separator)
    return distros, schemes, purls, families


_DISTROS, _SCHEMES, _PURLS, _FAMILIES = _index()

OS_ECOSYSTEMS: frozenset[str] = frozenset(d.ecosystem for d in _DISTROS.values()) | frozenset(_FAMILIES)
"""Every OSV ecosystem whose packages are OS packages."""

LANGUAGE_REPORT_TYPES: dict[str, str] = {
    lang.ecosystem: lang.report_type for eco in ECOSYSTEMS for lang in eco.languages if lang.report_type
}
"""OSV ecosystem → Trivy's report target type (``PyPI`` → ``pip``)."""


def base_ecosystem(ecosystem: str) -> str:
    """The ecosystem without its release suffix: ``Debian:12`` -> ``Debian``."""
    return ecosystem.split(":", 1)[0]


def scheme_name(ecosystem: str) -> str:
    """The version scheme name of an OSV ecosystem, release suffix allowed; raises UnknownEcosystem."""
    try:
        return _SCHEMES[base_ecosystem(ecosystem)]
    except KeyError:
        raise UnknownEcosystem(f"versions: no version scheme for ecosystem {ecosystem!r}") from None


def scheme_names() -> dict[str, str]:
    """OSV ecosystem (no release) → version scheme name, for every ecosystem in the catalog."""
    return dict(_SCHEMES)


def distro(os_id: str) -> Distro | None:
    """The distribution with this os-release ID (any case), or None."""
    return _DISTROS.get(os_id.lower())


def os_ecosystem(os: OSInfo) -> str | None:
    """The OSV ecosystem of a distribution without release, or None when unknown."""
    d = distro(os.id)
    return d.ecosystem if d else None


def ecosystem_and_release(os: OSInfo) -> str:
    """The OSV ecosystem string with release for a distribution.

    ``OSInfo(id="debian", version_id="12")`` -> ``Debian:12``; Alpine 3.19.1 ->
    ``Alpine:v3.19``; Ubuntu 22.04 -> ``Ubuntu:22.04:LTS``, 23.10 -> ``Ubuntu:23.10``;
    Rocky 9.3 -> ``Rocky Linux:9``; openEuler 22.03 (LTS-SP3) -> ``openEuler:22.03-LTS-SP3``.
    Raises ValueError for an unknown distribution.
    """
    d = distro(os.id)
    if d is None:
        raise ValueError(f"ecosystems: no OSV ecosystem for os {os.id!r}")
    version = os.version_id.strip()
    return d.release(d.ecosystem, version, os.pretty_name) if version else d.ecosystem


def os_family(family: str) -> Ecosystem | None:
    """The OS-package ecosystem whose analyser reports ``family`` (``Debian``, ``Alpine``, ``Red Hat``)."""
    return _FAMILIES.get(family)


def purl_rule(ecosystem: str) -> tuple[str, str | None, str] | None:
    """``(purl type, namespace, separator)`` of an OSV ecosystem; namespace None = from the name."""
    return _PURLS.get(base_ecosystem(ecosystem))


def check_unique(analysers: list[Analyser]) -> list[Analyser]:
    """Return ``analysers`` unchanged; raise ``CatalogError`` on a duplicate name or a non-Analyser."""
    seen: set[str] = set()
    for a in analysers:
        if not isinstance(a, Analyser):
            raise CatalogError(f"analysers: {a!r} does not implement the Analyser protocol")
        if a.name in seen:
            raise CatalogError(f"analysers: duplicate analyser name {a.name!r}")
        seen.add(a.name)
    return analysers


def _load(spec: str) -> object:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def default_analysers() -> list[Analyser]:
    """Fresh instances of every catalogued analyser, OS first; raises on a duplicate name."""
    return check_unique([_load(spec)() for eco in ECOSYSTEMS for spec in eco.analysers])


def default_source_classes() -> list[type]:
    """The advisory source classes that ecosystems bring of their own (Alpine secdb …)."""
    return [_load(spec) for eco in ECOSYSTEMS for spec in eco.sources]
