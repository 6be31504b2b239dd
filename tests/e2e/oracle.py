"""What the OSV data itself says an installed wheel is affected by, without the matcher.

A PyPA record lists the affected versions explicitly (``affected[].versions``);
a version is affected by a record exactly when it is in one of those lists.
The expected fix is the lowest ``fixed`` event above the version, compared
with ``packaging`` (PEP 440). Only ``yaml`` and ``packaging`` are used here, so
the prediction does not share code with the matcher under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Expected:
    """One record that affects the version: its id, aliases and the first fix above the version."""

    id: str
    aliases: frozenset[str]
    fixed: str | None


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _first_fix_above(entry: dict, version: Version) -> str | None:
    fixes = []
    for rng in entry.get("ranges") or []:
        if rng.get("type") == "GIT":
            continue
        for event in rng.get("events") or []:
            try:
                if "fixed" in event and Version(event["fixed"]) > version:
                    fixes.append(event["fixed"])
            except InvalidVersion:
                continue
    return min(fixes, key=Version) if fixes else None


def predicted(folder: Path, package: str, version: str) -> dict[str, Expected]:
    """The records under ``folder`` whose explicit list holds ``version`` of ``package``, by id."""
    out: dict[str, Expected] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc.get("withdrawn"):
            continue
        for entry in doc.get("affected") or []:
            pkg = entry.get("package") or {}
            if pkg.get("ecosystem") != "PyPI" or _pep503(pkg.get("name", "")) != _pep503(package):
                continue
            if version in (entry.get("versions") or []):
                out[doc["id"]] = Expected(doc["id"], frozenset(doc.get("aliases") or ()),
                                          _first_fix_above(entry, Version(version)))
    return out
