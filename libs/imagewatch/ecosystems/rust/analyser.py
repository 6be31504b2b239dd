"""Rust crates: ``cargo auditable`` binaries and ``Cargo.lock`` files.

``cargo auditable`` stores zlib-compressed JSON in the ELF section ``.dep-v0``:
``{"packages": [{"name", "version", "source", "kind", "dependencies", "root"}]}``.
Crates built from the local workspace (``source`` ``local``; in Cargo.lock,
no ``source``) are skipped: they are not crates.io releases and would match
advisories for unrelated crates of the same name. Build-time crates (``kind``
``build``: proc macros, build scripts) are not in the binary and are skipped.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL

from imagewatch.models import Package
from imagewatch.ecosystems.go.binpath import may_be_executable
from imagewatch.ecosystems.go.elf import ElfError, ElfFile

SECTION = ".dep-v0"
_MIN_BINARY = 16 << 10
_MAX_LOCK = 16 << 20
_MAX_SECTION = 8 << 20
_MAX_JSON = 64 << 20


def _package(name: str, version: str, path: str) -> Package:
    return Package(name=name, version=version, ecosystem="crates.io", path=path,
                   purl=PackageURL(type="cargo", name=name, version=version).to_string())


def parse_audit_data(compressed: bytes, image_path: str) -> list[Package]:
    """Runtime, non-local crates from a ``.dep-v0`` section; [] when it does not decode."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, _MAX_JSON)
        doc = json.loads(raw)
    except (zlib.error, ValueError):
        return []
    out: list[Package] = []
    for entry in doc.get("packages", []) if isinstance(doc, dict) else []:
        if not isinstance(entry, dict) or entry.get("source") == "local" or entry.get("root"):
            continue
        if entry.get("kind", "runtime") != "runtime":
            continue
        name, version = entry.get("name"), entry.get("version")
        if isinstance(name, str) and isinstance(version, str) and name and version:
            out.append(_package(name, version, image_path))
    return out


def parse_cargo_lock(text: str, image_path: str) -> list[Package]:
    """Crates of a ``Cargo.lock`` that come from a registry or git; [] when malformed."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    out: list[Package] = []
    for entry in doc.get("package", []):
        if isinstance(entry, dict) and entry.get("source") and entry.get("name") and entry.get("version"):
            out.append(_package(str(entry["name"]), str(entry["version"]), image_path))
    return out


def read_audit_section(path: Path) -> bytes | None:
    """The raw ``.dep-v0`` section of the ELF file at ``path``, or None."""
    try:
        with path.open("rb") as f:
            return ElfFile(f, path.stat().st_size).section(SECTION, _MAX_SECTION)
    except ElfError:
        return None


class RustAnalyser:
    """Crates recorded by ``cargo auditable`` or pinned in ``Cargo.lock``."""

    name = "rust-cargo"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """``Cargo.lock`` files and files that may be executables (see ``golang_binpath``)."""
        if path.rpartition("/")[2] == "Cargo.lock":
            return size <= _MAX_LOCK
        return may_be_executable(path, size, _MIN_BINARY)

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Crates of every audited binary and lock file among ``files``."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            if image_path.rpartition("/")[2] == "Cargo.lock":
                out.extend(parse_cargo_lock(disk_path.read_text(encoding="utf-8", errors="replace"),
                                            image_path))
                continue
            section = read_audit_section(disk_path)
            if section:
                out.extend(parse_audit_data(section, image_path))
        return out
