"""Installed Python distributions: wheel ``METADATA`` and egg ``PKG-INFO``.

Reads ``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO``, ``EGG-INFO/PKG-INFO``
and ``*.egg-info`` files (distutils writes PKG-INFO under that name). Names
are normalised per PEP 503 (``Foo_Bar`` -> ``foo-bar``) in both ``name`` and
purl, the form OSV advisories are matched on.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.parser import HeaderParser
from pathlib import Path
from typing import Literal

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagewatch.models import Package

_MAX_SIZE = 8 << 20
_SUFFIXES = (".dist-info/METADATA", ".egg-info/PKG-INFO", "EGG-INFO/PKG-INFO", ".egg-info")
_LICENSE_CLASSIFIER = "License :: "


def _licenses(headers) -> list[str]:
    expression = (headers.get("License-Expression") or "").strip()
    if expression:
        return [expression]
    text = (headers.get("License") or "").strip()
    if text and text != "UNKNOWN" and "\n" not in text and len(text) <= 80:
        return [text]
    return [c.rsplit(" :: ", 1)[-1].strip() for c in headers.get_all("Classifier") or []
            if c.startswith(_LICENSE_CLASSIFIER) and c.count("::") >= 2]


def parse_metadata(text: str, image_path: str) -> Package | None:
    """A ``Package`` from core metadata text (RFC 822 headers); None without name or version."""
    headers = HeaderParser().parsestr(text)
    name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
    if not name or not version:
        return None
    normalised = canonicalize_name(name)
    return Package(name=normalised, version=version, ecosystem="PyPI",
                   purl=PackageURL(type="pypi", name=normalised, version=version).to_string(),
                   path=image_path, licenses=_licenses(headers))


class PythonAnalyser:
    """Python distributions installed as wheels or eggs."""

    name = "python-dist"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """Core metadata files of installed distributions, up to 8 MiB."""
        return size <= _MAX_SIZE and path.endswith(_SUFFIXES)

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """One package per metadata file that names a distribution and version."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            text = disk_path.read_text(encoding="utf-8", errors="replace")
            pkg = parse_metadata(text, image_path)
            if pkg is not None:
                out.append(pkg)
        return out
