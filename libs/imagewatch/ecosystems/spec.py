"""What an ecosystem declares: its distributions, version scheme, purl rules and analyser.

Each ``imagewatch.ecosystems.<name>`` package holds one ``Ecosystem`` in its
``__init__`` (pure data, cheap to import) beside the modules that implement
it; ``imagewatch.ecosystems.catalog`` lists them and answers every lookup
(os-release ID → OSV ecosystem and release, ecosystem → version scheme and
purl). There is no other table of distributions or ecosystems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

Release = Callable[[str, str, str], str]
"""``(osv_ecosystem, version_id, pretty_name) -> "Ecosystem:release"``; the version is non-empty."""


def _numbers(version: str) -> list[str]:
    return re.findall(r"\d+", version)


def by_major(eco: str, version: str, pretty: str = "") -> str:
    """``Debian:12``, ``Rocky Linux:9``: the major release."""
    parts = _numbers(version)
    return f"{eco}:{parts[0]}" if parts else eco


def by_branch(eco: str, version: str, pretty: str = "") -> str:
    """``Alpine:v3.19``: the ``vMAJOR.MINOR`` branch."""
    parts = _numbers(version)
    return f"{eco}:v{'.'.join(parts[:2])}" if len(parts) >= 2 else eco


def by_ubuntu_release(eco: str, version: str, pretty: str = "") -> str:
    """``Ubuntu:22.04:LTS`` on long-term releases (even years, April), else ``Ubuntu:23.10``."""
    parts = _numbers(version)
    if len(parts) < 2:
        return eco
    yy, mm = int(parts[0]), int(parts[1])
    release = f"{yy:02d}.{mm:02d}"
    return f"{eco}:{release}:LTS" if yy % 2 == 0 and mm == 4 else f"{eco}:{release}"


def by_version(eco: str, version: str, pretty: str = "") -> str:
    """``SUSE:15.5``, ``openEuler:22.03``: the whole version as written."""
    return f"{eco}:{version}"


def by_openeuler_release(eco: str, version: str, pretty: str = "") -> str:
    """``openEuler:22.03-LTS-SP3`` from VERSION_ID ``22.03`` and PRETTY_NAME ``openEuler 22.03 (LTS-SP3)``.

    openEuler's OSV records name the long-term branch and service pack; innovation
    releases (``openEuler 23.09``) have no parenthesised suffix.
    """
    suffix = re.search(r"\(([A-Za-z0-9.-]+)\)", pretty)
    return f"{eco}:{version}-{suffix.group(1)}" if suffix else f"{eco}:{version}"


def unreleased(eco: str, version: str, pretty: str = "") -> str:
    """``Wolfi``: rolling distributions have no release in their ecosystem."""
    return eco


def prefixed(prefix: str) -> Release:
    """``openSUSE:Leap 15.5``: a fixed word before the whole version."""
    return lambda eco, version, pretty="": f"{eco}:{prefix} {version}"


def fixed(release: str) -> Release:
    """``openSUSE:Tumbleweed``: one release name whatever the version."""
    return lambda eco, version, pretty="": f"{eco}:{release}"


@dataclass(frozen=True)
class Distro:
    """One operating system an OS-package ecosystem serves, by its os-release ``ID`` (lower case)."""

    os_id: str
    ecosystem: str  # OSV ecosystem name
    purl_namespace: str
    release: Release = by_major


@dataclass(frozen=True)
class Language:
    """One OSV language ecosystem: its version scheme and purl type.

    ``purl_namespace`` is the fixed namespace, or None when the namespace is the
    part of the name before ``purl_separator`` (npm scopes, Go module paths,
    Maven group ids).
    """

    ecosystem: str
    scheme: str
    purl_type: str
    purl_namespace: str | None = ""
    purl_separator: str = "/"
    report_type: str = ""  # Trivy's target type in reports (``pip``, ``gobinary`` …)


@dataclass(frozen=True)
class Ecosystem:
    """An ecosystem folder's declaration.

    ``analysers`` are ``"module:Class"`` names, imported only when the
    inventory builds its analysers. An OS-package ecosystem (``family`` set)
    names the ecosystem its analyser reports before the image's OS is known
    and the distributions whose packages it reads.
    """

    name: str
    analysers: tuple[str, ...] = ()
    family: str = ""
    purl_type: str = ""
    scheme: str = ""
    distros: tuple[Distro, ...] = ()
    languages: tuple[Language, ...] = ()
    sources: tuple[str, ...] = field(default=())
