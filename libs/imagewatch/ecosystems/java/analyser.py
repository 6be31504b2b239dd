"""Java archives (jar, war, ear, par, jpi, hpi), nested archives included.

Archives inside archives (Spring Boot ``BOOT-INF/lib``, ``WEB-INF/lib``, ear
modules) are opened in memory up to ``MAX_DEPTH`` levels, each at most
``MAX_NESTED_BYTES``, with one budget of ``MAX_TOTAL_BYTES`` inflated for all
the archives of one layer (many archives, or many nested ones, do not
multiply it), so a zip bomb costs bounded memory and time. What the budget
or damage leaves unread is reported (``analyse_with_skips``): the scan shows
as partial rather than clean. A nested archive's package path is
the outer image path joined with the entry (``app.jar/BOOT-INF/lib/x.jar``),
as Trivy writes it. Coordinates come from ``java_archive``.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Literal

from packageurl import PackageURL

from imagewatch.models import Package
from imagewatch.ecosystems.java.archive import (Coordinates, from_pom_properties, from_repository_path, identify, parse_manifest,
                           split_filename)

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".jpi", ".hpi")
MAX_DEPTH = 3
MAX_NESTED_BYTES = 64 << 20
MAX_TOTAL_BYTES = 1 << 30  # inflated per layer, all archives together
_MAX_TOP_SIZE = 1 << 30
_MAX_META_BYTES = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
               NotImplementedError, ValueError)


class _Budget:
    """Bytes still allowed to be inflated from the archives of one layer, and what was left unread."""

    def __init__(self, total: int) -> None:
        self.total = self.left = total
        self.skipped: list[str] = []

    def read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes | None:
        cap = min(limit, self.left)
        if info.file_size > cap:
            self._skip(where, info, limit)
            return None
        with zf.open(info) as f:
            data = f.read(cap + 1)
        self.left -= len(data)
        if len(data) > cap:
            self._skip(where, info, limit)
            return None
        return data

    def _skip(self, where: str, info: zipfile.ZipInfo, limit: int) -> None:
        why = (f"over the {self.total}-byte inflation budget of the layer" if self.left < limit
               else f"larger than {limit} bytes")
        self.skipped.append(f"{where}/{info.filename}: not read ({why})")


def _package(c: Coordinates, path: str) -> Package:
    purl = PackageURL(type="maven", namespace=c.group or None, name=c.artifact, version=c.version)
    return Package(name=c.name, version=c.version, ecosystem="Maven", purl=purl.to_string(), path=path)


def _scan(source: IO[bytes], path: str, depth: int, budget: _Budget) -> list[Package]:
    out: list[Package] = []
    with zipfile.ZipFile(source) as zf:
        found: list[Coordinates] = []
        manifest: dict[str, str] = {}
        nested: list[zipfile.ZipInfo] = []
        for info in zf.infolist():
            name = info.filename
            if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                data = budget.read(zf, info, _MAX_META_BYTES, path)
                coords = from_pom_properties(data.decode("utf-8", "replace")) if data else None
                if coords and coords not in found:
                    found.append(coords)
            elif name.upper() == "META-INF/MANIFEST.MF":
                data = budget.read(zf, info, _MAX_META_BYTES, path)
                manifest = parse_manifest(data.decode("utf-8", "replace")) if data else {}
            elif name.lower().endswith(ARCHIVE_SUFFIXES) and not info.is_dir():
                nested.append(info)
        base = path.rpartition("/")[2]
        own = split_filename(base)
        if not found or (own and not any(c.artifact == own[0] or c.version == own[1] for c in found)):
            coords = (from_repository_path(path) if depth == 0 else None) or identify(base, manifest)
            if coords and not any((c.artifact, c.version) == (coords.artifact, coords.version) for c in found):
                found.append(coords)
        out.extend(_package(c, path) for c in found)
        if depth < MAX_DEPTH:
            for info in nested:
                try:
                    data = budget.read(zf, info, MAX_NESTED_BYTES, path)
                    if data is not None:
                        out.extend(_scan(io.BytesIO(data), f"{path}/{info.filename}", depth + 1, budget))
                except _ZIP_ERRORS as exc:  # one broken nested archive does not hide its siblings
                    budget.skipped.append(f"{path}/{info.filename}: not read ({type(exc).__name__}: {exc})")
    return out


def scan_archive(disk_path: Path, image_path: str, budget: _Budget | None = None) -> list[Package]:
    """Packages of the archive at ``disk_path`` and the archives nested in it, within ``budget``."""
    budget = budget or _Budget(MAX_TOTAL_BYTES)
    try:
        with disk_path.open("rb") as f:
            return _scan(f, image_path, 0, budget)
    except _ZIP_ERRORS as exc:
        budget.skipped.append(f"{image_path}: not read ({type(exc).__name__}: {exc})")
        return []


class JavaAnalyser:
    """Maven artifacts in Java archives."""

    name = "java-archive"
    version = 3
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """Files named like Java archives, up to 1 GiB."""
        return size <= _MAX_TOP_SIZE and path.lower().endswith(ARCHIVE_SUFFIXES)

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Packages of every archive among ``files``."""
        return self.analyse_with_skips(files)[0]

    def analyse_with_skips(self, files: Mapping[str, Path]) -> tuple[list[Package], list[str]]:
        """Packages of every archive among ``files`` (one inflation budget for them all), and what was not read."""
        out: list[Package] = []
        budget = _Budget(MAX_TOTAL_BYTES)
        for image_path, disk_path in sorted(files.items()):
            out.extend(scan_archive(disk_path, image_path, budget))
        return out, budget.skipped
