"""PHP packages installed by Composer: ``vendor/composer/installed.json``.

Composer 1 writes a JSON list of packages, Composer 2 an object with a
``packages`` list. Versions stay as Composer records them (``v5.4.21`` for
tags with a ``v``); ``version_normalized`` is not used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL

from imagewatch.models import Package

_MAX_SIZE = 32 << 20


def _purl(name: str, version: str) -> str:
    vendor, _, base = name.rpartition("/")
    return PackageURL(type="composer", namespace=vendor or None, name=base, version=version).to_string()


def parse_installed_json(text: str, image_path: str) -> list[Package]:
    """Packages of an ``installed.json`` (Composer 1 or 2); [] when malformed."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    entries = doc.get("packages") if isinstance(doc, dict) else doc
    out: list[Package] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            continue
        licenses = entry.get("license")
        licenses = [licenses] if isinstance(licenses, str) else licenses
        out.append(Package(name=name, version=version, ecosystem="Packagist", purl=_purl(name, version),
                           path=image_path,
                           licenses=[x for x in licenses or [] if isinstance(x, str)]))
    return out


class PhpAnalyser:
    """Composer's record of installed packages."""

    name = "php-composer"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """``vendor/composer/installed.json`` anywhere, up to 32 MiB."""
        return size <= _MAX_SIZE and (path == "vendor/composer/installed.json"
                                      or path.endswith("/vendor/composer/installed.json"))

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Every package listed in every ``installed.json``."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            out.extend(parse_installed_json(disk_path.read_text(encoding="utf-8", errors="replace"),
                                            image_path))
        return out
