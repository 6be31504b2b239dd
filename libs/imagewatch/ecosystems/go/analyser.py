"""Go binaries: modules from the build info the Go linker embeds.

Reports the main module (version empty when built as ``(devel)``), every
dependency (the replacement when one is recorded; replacements by a local
directory are skipped: no released version was used) and the toolchain as ``stdlib`` with the
``go`` prefix stripped (``go1.21.3`` -> ``1.21.3``). Module versions stay as Go
writes them (``v1.2.3``). Only ELF binaries are read; a file that is not ELF
or has no build info yields nothing.

Each package also carries ``linked``: the import paths and symbol hashes of
that module (the standard library for ``stdlib``) found in the binary's
function table (``pclntab``, ``linkage``), from which the matcher judges
whether an advisory's vulnerable code is in the binary at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec
from packageurl import PackageURL

from imagewatch.models import LinkedCode, Package
from imagewatch.ecosystems.go.binpath import may_be_executable
from imagewatch.ecosystems.go.buildinfo import MAGIC, BuildInfo, BuildInfoError, parse_blob
from imagewatch.ecosystems.go.elf import ElfError, ElfFile
from imagewatch.ecosystems.go.linkage import linked_by_module
from imagewatch.ecosystems.go.pclntab import function_names

_MIN_SIZE = 256 << 10
_BLOB_SIZE = 64 << 10
_SEARCH = 1 << 20
_LOCAL_PREFIXES = ("./", "../", "/")


def _purl(path: str, version: str) -> str:
    namespace, _, name = path.rpartition("/")
    return PackageURL(type="golang", namespace=namespace or None, name=name,
                      version=version or None).to_string()


def _find_blob(elf: ElfFile) -> bytes | None:
    blob = elf.section(".go.buildinfo", _BLOB_SIZE)
    if blob is not None:
        return blob if blob.startswith(MAGIC) else None
    if elf.sections:
        return None  # section headers without .go.buildinfo: not a Go 1.13+ binary
    # Section headers stripped: like debug/buildinfo, look at the start of the data segment.
    data = elf.first_data_segment()
    if data is None:
        return None
    head = elf.read_file(data[0], min(data[1], _SEARCH))
    at = head.find(MAGIC)
    while at >= 0 and at % 16:
        at = head.find(MAGIC, at + 1)
    return elf.read_file(data[0] + at, _BLOB_SIZE) if at >= 0 else None


def read_build_info(path: Path) -> BuildInfo | None:
    """The build info of the Go ELF binary at ``path``; None when it has none."""
    return read_binary(path)[0]


def read_binary(path: Path, names: bool = False) -> tuple[BuildInfo | None, list[str] | None]:
    """Build info and (with ``names``) the function names of the Go ELF binary at ``path``.

    The names are None when the binary has no readable function table.
    """
    with path.open("rb") as f:
        try:
            elf = ElfFile(f, path.stat().st_size)
            blob = _find_blob(elf)
            info = parse_blob(blob, elf.read_at) if blob else None
        except (ElfError, BuildInfoError):
            return None, None
        return info, (function_names(elf) if info is not None and names else None)


def packages_from_build_info(info: BuildInfo, image_path: str,
                             functions: list[str] | None = None) -> list[Package]:
    """Turn build info into ``Package`` records for the binary at ``image_path``.

    With ``functions`` (the binary's function names) each package carries what
    the binary links of it (``Package.linked``).
    """
    out: list[Package] = []

    def add(name: str, version: str) -> None:
        out.append(Package(name=name, version=version, ecosystem="Go",
                           purl=_purl(name, version), path=image_path))

    if info.main is not None and info.main.path:
        version = "" if info.main.version == "(devel)" else info.main.version
        add(info.main.path, version)
    for dep in info.deps:
        mod = dep.replace or dep
        if mod.version and not mod.path.startswith(_LOCAL_PREFIXES):
            add(mod.path, mod.version)
    toolchain = info.go_version.split()[0] if info.go_version.split() else ""
    if toolchain.startswith("go"):
        add("stdlib", toolchain[2:])
    if functions is not None:
        main = info.main.path if info.main is not None else ""
        linked = linked_by_module(functions, [p.name for p in out if p.name != "stdlib"], main)
        empty = LinkedCode()
        out = [msgspec.structs.replace(p, linked=linked.get(p.name, empty)) for p in out]
    return out


class GoBinaryAnalyser:
    """Modules and toolchain of Go binaries."""

    name = "go-binary"
    version = 2
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """Files that may be executables (see ``golang_binpath``) of at least 256 KiB."""
        return may_be_executable(path, size, _MIN_SIZE)

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Packages of every Go binary among ``files``."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            info, functions = read_binary(disk_path, names=True)
            if info is not None:
                out.extend(packages_from_build_info(info, image_path, functions))
        return out
