"""Language packages listed by SBOM files shipped inside an image.

Some software ships an SBOM of what it vendors (pip's
``pip/_vendor/bom.cdx.json``, Bitnami's ``.spdx-*.spdx.json``); the vendored
code is in the image even though no package manager installed it. Like
Trivy, files named ``*.cdx.json`` (CycloneDX JSON, components at any depth)
and ``*.spdx.json`` (SPDX JSON, ``purl`` external references) are read; each
component with a purl of a language ecosystem is a package. OS purls are
left to the OS package analysers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagewatch.models import Package

SUFFIXES = (".cdx.json", ".spdx.json")
_MAX_SIZE = 32 << 20
ECOSYSTEMS = {
    "pypi": "PyPI", "npm": "npm", "golang": "Go", "maven": "Maven", "cargo": "crates.io",
    "gem": "RubyGems", "nuget": "NuGet", "composer": "Packagist",
}


def _cyclonedx_purls(components: object) -> Iterator[str]:
    if not isinstance(components, list):
        return
    for c in components:
        if isinstance(c, dict):
            if isinstance(c.get("purl"), str):
                yield c["purl"]
            yield from _cyclonedx_purls(c.get("components"))


def _spdx_purls(doc: dict) -> Iterator[str]:
    for pkg in doc.get("packages") or []:
        for ref in (pkg.get("externalRefs") or []) if isinstance(pkg, dict) else []:
            if isinstance(ref, dict) and ref.get("referenceType") == "purl":
                yield str(ref.get("referenceLocator", ""))


def package_from_purl(purl: str, image_path: str) -> Package | None:
    """A language ``Package`` named as its analyser would name it; None for other purls."""
    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    ecosystem = ECOSYSTEMS.get(p.type)
    if ecosystem is None or not p.version:
        return None
    name = p.name
    if p.type == "pypi":
        name = canonicalize_name(name)
    elif p.type == "maven":
        name = f"{p.namespace}:{p.name}" if p.namespace else p.name
    elif p.namespace:
        name = f"{p.namespace}/{p.name}"
    clean = PackageURL(type=p.type, namespace=p.namespace, name=canonicalize_name(p.name) if p.type == "pypi"
                       else p.name, version=p.version).to_string()
    return Package(name=name, version=p.version, ecosystem=ecosystem, purl=clean, path=image_path)


def parse_sbom(text: str, image_path: str) -> list[Package]:
    """Language packages of one CycloneDX or SPDX JSON document; [] when it is neither."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    purls = _cyclonedx_purls(doc.get("components")) if "bomFormat" in doc else _spdx_purls(doc)
    out: dict[str, Package] = {}
    for purl in purls:
        pkg = package_from_purl(purl, image_path)
        if pkg is not None:
            out.setdefault(pkg.purl, pkg)
    return list(out.values())


class SbomAnalyser:
    """Packages listed by CycloneDX/SPDX JSON files found in a layer."""

    name = "sbom-file"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """``*.cdx.json`` and ``*.spdx.json`` files up to 32 MiB."""
        return size <= _MAX_SIZE and path.endswith(SUFFIXES)

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Packages of every SBOM among ``files``."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            out.extend(parse_sbom(disk_path.read_text("utf-8", errors="replace"), image_path))
        return out
