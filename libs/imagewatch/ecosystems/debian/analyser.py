"""dpkg analyser: Debian and Ubuntu packages from ``var/lib/dpkg``.

Reads ``var/lib/dpkg/status`` and distroless ``var/lib/dpkg/status.d/*`` (one
stanza file per package, with ``<name>.md5sums`` beside it), keeping only
installed packages. File ownership comes from ``var/lib/dpkg/info/*.list``
(and the distroless md5sums). The ecosystem is ``Debian``; composition turns
it into ``Ubuntu`` (and the purl namespace) from the image's OSInfo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from imagewatch.models import Package

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"
MAX_DB_BYTES = 256 * 1024 * 1024

_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?")
Owned = dict[str, dict[str, list[str]]]


def parse_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Yield each deb822 paragraph as {field: value}; continuation lines are joined."""
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip()
            fields[last] = value.strip()
    if fields:
        yield fields


def _installed(stanza: dict[str, str]) -> bool:
    status = stanza.get("Status")
    # Distroless stanzas may carry no Status: their presence means installed.
    return status is None or status.split()[-1:] == ["installed"]


def _epoch(version: str) -> int | None:
    head, sep, _ = version.partition(":")
    return int(head) if sep and head.isdigit() else None


def package_from_stanza(stanza: dict[str, str], path: str) -> Package | None:
    """One installed package from a status paragraph, or None when not installed."""
    name, version = stanza.get("Package"), stanza.get("Version")
    if not name or not version or not _installed(stanza):
        return None
    source_name, source_version = name, version
    if m := _SOURCE.match(stanza.get("Source", "")):
        source_name = m.group(1)
        source_version = m.group(2) or version
    return Package(
        name=name, version=version, ecosystem="Debian", kind="os", path=path,
        source_name=source_name, source_version=source_version,
        arch=stanza.get("Architecture", ""), epoch=_epoch(version),
    )


def _owner_name(path: str, suffix: str) -> str:
    # info/zlib1g:amd64.list belongs to package zlib1g
    return path.rsplit("/", 1)[-1].removesuffix(suffix).partition(":")[0]


def _list_paths(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        p = line.strip().lstrip("/")
        if p and p != ".":
            out.append(p)
    return out


def _md5sums_paths(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        _, _, p = line.partition("  ")
        if p.strip():
            out.append(p.strip().lstrip("/"))
    return out


class DpkgAnalyser:
    """Installed dpkg packages (status, status.d) and the files each one owns."""

    name = "dpkg"
    version = 1
    kind: Literal["os", "lang"] = "os"

    def wants(self, path: str, size: int) -> bool:
        """The status database, distroless stanzas and ``info/*.list`` file lists."""
        if size > MAX_DB_BYTES:
            return False
        return (
            path == STATUS
            or path.startswith(STATUS_D)
            or (path.startswith(INFO) and path.endswith(".list") and "/" not in path[len(INFO):])
        )

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Installed packages from the status files among ``files``."""
        return self.analyse_with_owners(files)[0]

    def analyse_with_owners(self, files: Mapping[str, Path]) -> tuple[list[Package], Owned]:
        """Packages plus ownership: {list file: {package: [owned image paths]}}."""
        packages: list[Package] = []
        owned: Owned = {}
        for path in sorted(files):
            text = files[path].read_text("utf-8", errors="replace")
            if path.startswith(INFO):
                owned[path] = {_owner_name(path, ".list"): _list_paths(text)}
            elif path.startswith(STATUS_D) and path.endswith(".md5sums"):
                owned[path] = {_owner_name(path, ".md5sums"): _md5sums_paths(text)}
            elif path == STATUS or path.startswith(STATUS_D):
                for stanza in parse_stanzas(text):
                    if pkg := package_from_stanza(stanza, path):
                        packages.append(pkg)
        return packages, owned
