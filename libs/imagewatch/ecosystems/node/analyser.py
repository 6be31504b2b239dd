"""Node.js packages: installed ``package.json`` files and npm/Yarn/pnpm lock files.

Like Trivy's image scan, every ``package.json`` that carries both ``name`` and
``version`` is a package, inside ``node_modules`` or not: an application's own
``package.json`` is reported too (it may be a published package, e.g. the
``npm`` CLI in ``usr/lib/node_modules/npm``; a private app rarely matches an
advisory). Trivy reads lock files only when scanning source trees; we also
read ``package-lock.json``, ``yarn.lock`` and ``pnpm-lock.yaml`` outside
``node_modules`` (npm's hidden ``node_modules/.package-lock.json`` duplicates
the installed tree), but drop a lock entry when the same name and version
was installed in the same layer, so each package is reported once per layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL

from imagewatch.models import Package
from imagewatch.ecosystems.node.lockfiles import NameVersion, parse_package_lock, parse_pnpm_lock, parse_yarn_lock

_MAX_MANIFEST = 4 << 20
_MAX_LOCK = 64 << 20
_LOCKS: dict[str, Callable[[str], list[NameVersion]]] = {
    "package-lock.json": parse_package_lock,
    "yarn.lock": parse_yarn_lock,
    "pnpm-lock.yaml": parse_pnpm_lock,
}


def _purl(name: str, version: str) -> str:
    namespace, _, base = name.rpartition("/")
    return PackageURL(type="npm", namespace=namespace or None, name=base, version=version).to_string()


def _licenses(doc: dict) -> list[str]:
    value = doc.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value:
        return [value]
    legacy = doc.get("licenses")
    if isinstance(legacy, list):
        return [x["type"] for x in legacy if isinstance(x, dict) and isinstance(x.get("type"), str)]
    return []


def parse_package_json(text: str, image_path: str) -> Package | None:
    """The package a ``package.json`` describes; None without a name or version."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    return Package(name=name, version=version, ecosystem="npm", purl=_purl(name, version),
                   path=image_path, licenses=_licenses(doc))


class NodeAnalyser:
    """npm packages installed under ``node_modules`` or pinned by lock files."""

    name = "node"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """``package.json`` files (4 MiB max) and lock files outside ``node_modules`` (64 MiB)."""
        base = path.rpartition("/")[2]
        if base == "package.json":
            return size <= _MAX_MANIFEST
        return base in _LOCKS and size <= _MAX_LOCK and "node_modules/" not in path

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Installed packages first, then lock file entries not installed in this layer."""
        installed: list[Package] = []
        locks: list[tuple[str, Path]] = []
        for image_path, disk_path in sorted(files.items()):
            if image_path.endswith("package.json"):
                text = disk_path.read_text(encoding="utf-8", errors="replace")
                pkg = parse_package_json(text, image_path)
                if pkg is not None:
                    installed.append(pkg)
            else:
                locks.append((image_path, disk_path))
        seen = {(p.name, p.version) for p in installed}
        out = installed
        for image_path, disk_path in locks:
            parse = _LOCKS[image_path.rpartition("/")[2]]
            try:
                pairs = parse(disk_path.read_text(encoding="utf-8", errors="replace"))
            except (ValueError, AttributeError, TypeError):
                continue  # a malformed lock file is not an inventory error
            for name, version in dict.fromkeys(pairs):
                if (name, version) not in seen:
                    seen.add((name, version))
                    out.append(Package(name=name, version=version, ecosystem="npm",
                                       purl=_purl(name, version), path=image_path))
        return out
