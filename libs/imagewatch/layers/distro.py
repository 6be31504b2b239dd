"""OS package naming by distribution: OSV ecosystem and purl type/namespace/distro qualifier."""

from __future__ import annotations

import msgspec
from packageurl import PackageURL

from ..models import OSInfo, Package

# os-release ID → OSV ecosystem name, per package manager; unknown IDs keep the analyser's default.
ECOSYSTEMS: dict[str, dict[str, str]] = {
    "Debian": {"debian": "Debian", "ubuntu": "Ubuntu"},
    "Alpine": {"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard"},
    "Red Hat": {
        "rhel": "Red Hat", "rocky": "Rocky Linux", "almalinux": "AlmaLinux",
        "opensuse-leap": "openSUSE", "opensuse-tumbleweed": "openSUSE", "opensuse": "openSUSE",
        "sles": "SUSE", "sle-micro": "SUSE", "sled": "SUSE", "mageia": "Mageia",
        "openeuler": "openEuler", "photon": "Photon OS", "azurelinux": "Azure Linux",
        "centos": "CentOS", "fedora": "Fedora", "amzn": "Amazon Linux", "ol": "Oracle Linux",
    },
}
PURL_TYPES = {"Debian": "deb", "Alpine": "apk", "Red Hat": "rpm"}
_NAMESPACES = {"rhel": "redhat", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse",
               "sles": "suse", "amzn": "amazon"}
_DEFAULT_NAMESPACES = {"deb": "debian", "apk": "alpine", "rpm": "redhat"}


def distro_qualifier(os: OSInfo | None) -> str:
    """``debian-12``, ``alpine-3.19.1``, ``rhel-9.3``; codename when there is no version."""
    if os is None:
        return ""
    release = os.version_id or os.version_codename
    return f"{os.id}-{release}" if release else os.id


def os_package(pkg: Package, os: OSInfo | None) -> Package:
    """``pkg`` (an analyser's OS package) with the distro's ecosystem and a purl."""
    default = pkg.ecosystem
    ptype = PURL_TYPES.get(default)
    if ptype is None:
        return pkg
    ecosystem = ECOSYSTEMS[default].get(os.id, default) if os else default
    namespace = _NAMESPACES.get(os.id, os.id) if os else _DEFAULT_NAMESPACES[ptype]
    qualifiers = {"arch": pkg.arch} if pkg.arch else {}
    if ptype == "rpm" and pkg.epoch:
        qualifiers["epoch"] = str(pkg.epoch)
    if distro := distro_qualifier(os):
        qualifiers["distro"] = distro
    purl = PackageURL(type=ptype, namespace=namespace, name=pkg.name, version=pkg.version,
                      qualifiers=qualifiers).to_string()
    return msgspec.structs.replace(pkg, ecosystem=ecosystem, purl=purl)

