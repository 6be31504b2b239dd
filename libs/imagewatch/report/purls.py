"""Package URLs for the image itself; packages get theirs from ``imagewatch.ecosystems.purls``."""

from __future__ import annotations

from packageurl import PackageURL

from imagewatch.ecosystems.purls import package_purl

__all__ = ["image_purl", "package_purl"]


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
