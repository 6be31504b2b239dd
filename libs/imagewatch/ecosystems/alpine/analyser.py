"""apk analyser: Alpine (and Wolfi/Chainguard) packages from ``lib/apk/db/installed``.

Each blank-line separated record holds one-letter fields: ``P`` name, ``V``
version, ``A`` arch, ``o`` origin (the source package, against which Alpine's
secdb is written), ``L`` license, and ``F`` directory / ``R`` file pairs that
list the files the package owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from imagewatch.models import Package

INSTALLED = "lib/apk/db/installed"
Owned = dict[str, dict[str, list[str]]]


def _record(fields: dict[str, str], files: list[str], path: str) -> Package | None:
    name, version = fields.get("P"), fields.get("V")
    if not name or not version:
        return None
    return Package(
        name=name, version=version, ecosystem="Alpine", kind="os", path=path,
        source_name=fields.get("o") or name, source_version=version,
        arch=fields.get("A", ""), licenses=[fields["L"]] if fields.get("L") else [],
    )


def parse_installed(text: str, path: str = INSTALLED) -> tuple[list[Package], dict[str, list[str]]]:
    """Packages and {package name: owned paths} from the text of an apk installed db."""
    packages: list[Package] = []
    owned: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    files: list[str] = []
    directory = ""

    def flush() -> None:
        if pkg := _record(fields, files, path):
            packages.append(pkg)
            owned[pkg.name] = list(files)

    for line in text.splitlines():
        if not line.strip():
            if fields:
                flush()
            fields, files, directory = {}, [], ""
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue
        if key == "F":
            directory = value.strip("/")
        elif key == "R":
            files.append(f"{directory}/{value}" if directory else value)
        elif key not in fields:
            fields[key] = value
    if fields:
        flush()
    return packages, owned


class ApkAnalyser:
    """Installed apk packages and the files each one owns."""

    name = "apk"
    version = 1
    kind: Literal["os", "lang"] = "os"

    def wants(self, path: str, size: int) -> bool:
        """Only ``lib/apk/db/installed``."""
        return path == INSTALLED

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Installed packages from the apk database among ``files``."""
        return self.analyse_with_owners(files)[0]

    def analyse_with_owners(self, files: Mapping[str, Path]) -> tuple[list[Package], Owned]:
        """Packages plus ownership: {db path: {package: [owned image paths]}}."""
        if INSTALLED not in files:
            return [], {}
        text = files[INSTALLED].read_text("utf-8", errors="replace")
        packages, owned = parse_installed(text, INSTALLED)
        return packages, {INSTALLED: owned}
