"""Package URLs for packages that came without one, and for the image itself.

Built with ``packageurl-python`` so that escaping follows the purl spec.
"""

from __future__ import annotations

from packageurl import PackageURL

from ..models import OSInfo, Package

# OSV ecosystem -> (purl type, namespace); None namespace means "from the name".
_TYPES: dict[str, tuple[str, str | None]] = {
    "Debian": ("deb", "debian"), "Ubuntu": ("deb", "ubuntu"), "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"), "Chainguard": ("apk", "chainguard"),
    "Red Hat": ("rpm", "redhat"), "Rocky Linux": ("rpm", "rocky-linux"),
    "AlmaLinux": ("rpm", "almalinux"), "CentOS": ("rpm", "centos"), "Fedora": ("rpm", "fedora"),
    "Oracle Linux": ("rpm", "oracle"), "Amazon Linux": ("rpm", "amazon"),
    "openSUSE": ("rpm", "opensuse"), "SUSE": ("rpm", "suse"),
    "PyPI": ("pypi", ""), "npm": ("npm", None), "Go": ("golang", None), "Maven": ("maven", None),
    "crates.io": ("cargo", ""), "RubyGems": ("gem", ""), "NuGet": ("nuget", ""),
    "Packagist": ("composer", None),
}


def package_purl(p: Package, os: OSInfo | None = None) -> str:
    """``p.purl`` when set, else one built from its ecosystem, name and version."""
    if p.purl:
        return p.purl
    ptype, namespace = _TYPES.get(p.ecosystem, ("generic", ""))
    name = p.name
    if namespace is None:
        sep = ":" if p.ecosystem == "Maven" else "/"
        namespace, _, name = p.name.rpartition(sep)
    if ptype == "pypi":
        name = name.lower().replace("_", "-")
    qualifiers: dict[str, str] = {}
    if p.arch:
        qualifiers["arch"] = p.arch
    if os is not None and ptype in ("deb", "apk", "rpm"):
        qualifiers["distro"] = f"{os.id}-{os.version_id}" if os.version_id else os.id
    if p.epoch and ptype == "rpm":
        qualifiers["epoch"] = str(p.epoch)
    return PackageURL(type=ptype, namespace=namespace or None, name=name, version=p.version or None,
                      qualifiers=qualifiers or None).to_string()


def image_purl(reference: str, digest: str, platform: str = "") -> str:
    """``pkg:oci/NAME@DIGEST?repository_url=...`` for an image; empty without a digest."""
    if not digest:
        return ""
    repo = reference.split("@", 1)[0]
    slash, colon = repo.rfind("/"), repo.rfind(":")
    if colon > slash:
        repo = repo[:colon]
    qualifiers = {"repository_url": repo}
    if platform:
        qualifiers["arch"] = platform.split("/")[1] if "/" in platform else platform
    return PackageURL(type="oci", name=repo.rsplit("/", 1)[-1].lower(), version=digest,
                      qualifiers=qualifiers).to_string()
