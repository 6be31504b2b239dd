"""OSV per-ecosystem exports: ``https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip``.

Each zip holds one JSON file per advisory. The distro exports (Debian, Ubuntu,
Alpine ...) hold every release; the release is in each entry's ecosystem
(``Debian:12``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from imagewatch.advisories.model import Advisory, decode_json
from imagewatch.advisories.sources.base import SourceError
from imagewatch.advisories.sources.http import download_to_temp

BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"

# Ecosystems OSV publishes an export for (its ecosystems.txt lists the current set).
OSV_ECOSYSTEMS: tuple[str, ...] = (
    "AlmaLinux", "Alpine", "Android", "Bitnami", "Chainguard", "CRAN", "crates.io", "Debian",
    "GHC", "GIT", "Go", "Hackage", "Hex", "Linux", "Mageia", "Maven", "npm", "NuGet",
    "openSUSE", "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux",
    "RubyGems", "SUSE", "SwiftURL", "Ubuntu", "Wolfi",
)


def iter_zip(path: Path | bytes, origin: str) -> Iterator[Advisory]:
    """Advisories in an OSV zip export (a path, or its bytes)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{origin}: not an OSV zip export: {exc}") from None
    with archive:
        for info in archive.infolist():
            if info.filename.endswith(".json") and not info.is_dir():
                yield decode_json(archive.read(info), f"{origin}:{info.filename}")


class OSVSource:
    """One OSV ecosystem export; fingerprint is the object's ETag."""

    def __init__(self, ecosystem: str, bucket: str = BUCKET) -> None:
        self.ecosystem = ecosystem
        self.name = f"osv:{ecosystem}"
        self.url = f"{bucket}/{quote(ecosystem)}/all.zip"

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Download ``all.zip`` to a temporary file unless its ETag is unchanged."""
        return await download_to_temp(session, self.name, self.url, fingerprint, "all.zip")

    def parse(self, data: bytes | Path) -> Iterator[Advisory]:
        """The advisories of the export."""
        return iter_zip(data, self.name)
