"""The OSV ecosystem (with release) of an operating system: ``Debian:12``, ``Alpine:v3.19``.

Conventions are those of the OSV exports: Debian by major release, Alpine by
``vMAJOR.MINOR`` branch, Ubuntu by ``YY.MM`` with ``:LTS`` on long-term
releases (even years, April), the enterprise Linux rebuilds by major release.
"""

from __future__ import annotations

import re

from ..models import OSInfo

# os-release ID -> OSV ecosystem.
OS_ECOSYSTEMS: dict[str, str] = {
    "debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine", "wolfi": "Wolfi",
    "chainguard": "Chainguard", "rocky": "Rocky Linux", "almalinux": "AlmaLinux",
    "rhel": "Red Hat", "mageia": "Mageia", "opensuse-leap": "openSUSE", "sles": "SUSE",
    "photon": "Photon OS", "openEuler": "openEuler", "azurelinux": "Azure Linux",
    "mariner": "Azure Linux",
}
_NO_RELEASE = frozenset({"Wolfi", "Chainguard"})


def os_ecosystem(os: OSInfo) -> str | None:
    """The OSV ecosystem of a distribution without release, or None when unknown."""
    return OS_ECOSYSTEMS.get(os.id) or OS_ECOSYSTEMS.get(os.id.lower())


def ecosystem_and_release(os: OSInfo) -> str:
    """The OSV ecosystem string with release for a distribution.

    ``OSInfo(id="debian", version_id="12")`` -> ``Debian:12``; Alpine 3.19.1 ->
    ``Alpine:v3.19``; Ubuntu 22.04 -> ``Ubuntu:22.04:LTS``, 23.10 -> ``Ubuntu:23.10``;
    Rocky 9.3 -> ``Rocky Linux:9``. Raises ValueError for an unknown distribution.
    """
    eco = os_ecosystem(os)
    if eco is None:
        raise ValueError(f"advisories.release: no OSV ecosystem for os {os.id!r}")
    version = os.version_id.strip()
    if eco in _NO_RELEASE or not version:
        return eco
    parts = re.findall(r"\d+", version)
    if eco == "Alpine":
        return f"Alpine:v{'.'.join(parts[:2])}" if len(parts) >= 2 else eco
    if eco == "Ubuntu":
        if len(parts) < 2:
            return eco
        yy, mm = int(parts[0]), int(parts[1])
        release = f"{yy:02d}.{mm:02d}"
        return f"Ubuntu:{release}:LTS" if yy % 2 == 0 and mm == 4 else f"Ubuntu:{release}"
    if eco == "openSUSE":
        return f"openSUSE:Leap {version}"
    if eco in ("SUSE", "Photon OS", "openEuler"):
        return f"{eco}:{version}"
    return f"{eco}:{parts[0]}" if parts else eco
