"""NuGet packages of .NET applications: ``*.deps.json``.

The ``libraries`` object of a deps file maps ``Name/Version`` to an entry
whose ``type`` is ``package`` (from NuGet), ``project`` (the app itself and
its project references) or ``reference``; only packages are reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL

from imagewatch.models import Package

_MAX_SIZE = 32 << 20


def parse_deps_json(text: str, image_path: str) -> list[Package]:
    """NuGet packages of a ``.deps.json``; [] when malformed."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    libraries = doc.get("libraries") if isinstance(doc, dict) else None
    out: list[Package] = []
    for key, entry in (libraries or {}).items() if isinstance(libraries, dict) else ():
        if not isinstance(entry, dict) or entry.get("type") != "package":
            continue
        name, _, version = key.partition("/")
        if name and version:
            out.append(Package(name=name, version=version, ecosystem="NuGet", path=image_path,
                               purl=PackageURL(type="nuget", name=name, version=version).to_string()))
    return out


class DotnetAnalyser:
    """.NET dependency manifests written by the SDK at publish time."""

    name = "dotnet-deps"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """Files ending in ``.deps.json``, up to 32 MiB."""
        return size <= _MAX_SIZE and path.endswith(".deps.json")

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Every NuGet package of every deps file."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            out.extend(parse_deps_json(disk_path.read_text(encoding="utf-8-sig", errors="replace"),
                                       image_path))
        return out
