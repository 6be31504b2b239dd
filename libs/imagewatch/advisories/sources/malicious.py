"""OpenSSF malicious-packages: OSV reports (``MAL-YYYY-N``) of packages published with malicious intent.

The feed is a zip of the repository (``github.com/ossf/malicious-packages``,
default the ``main`` branch archive), whose ``osv/malicious/<ecosystem>/<name>/``
folders hold one OSV JSON record per report; ``osv/withdrawn/`` (false
positives) is skipped. The same records come as a directory tree for
``imagewatch db import`` (``advisories.load``). Matches of these records are
``malware`` findings (``advisories.malicious``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Iterator

from imagewatch.advisories.malicious import SOURCE
from imagewatch.advisories.model import Advisory, AdvisoryError, decode_json
from imagewatch.advisories.sources.base import SourceError
from imagewatch.advisories.sources.http import as_path, download_to_temp

DEFAULT_URL = "https://github.com/ossf/malicious-packages/archive/refs/heads/main.zip"
# One record is a few kB; anything far larger is not a report.
MAX_RECORD_BYTES = 4 << 20


def _wanted(name: str) -> bool:
    return name.endswith(".json") and "/osv/malicious/" in f"/{name}" and "/osv/withdrawn/" not in f"/{name}"


def iter_archive(path: Path, origin: str = SOURCE) -> Iterator[Advisory]:
    """The reports in a repository zip (``*/osv/malicious/**/*.json``); an unreadable record raises SourceError."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{origin}: not a zip of the malicious-packages repository: {exc}") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not _wanted(info.filename):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                raise SourceError(f"{origin}: {info.filename}: {info.file_size} bytes, not an OSV report")
            try:
                advisory = decode_json(archive.read(info), f"{origin}:{info.filename}")
            except AdvisoryError as exc:
                raise SourceError(str(exc)) from None
            if not advisory.id.startswith("MAL-"):
                raise SourceError(f"{origin}: {info.filename}: id {advisory.id!r} is not a MAL- id")
            yield advisory


class MaliciousPackagesSource:
    """The OpenSSF malicious-packages repository as one zip; fingerprint is its ETag."""

    name = SOURCE

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = url

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Download the repository zip to a temporary file unless its ETag is unchanged."""
        return await download_to_temp(session, self.name, self.url, fingerprint, "malicious-packages.zip")

    def parse(self, data: bytes | Path) -> Iterator[Advisory]:
        """The reports of the zip (a path as ``fetch`` returns, or the zip's bytes written by the caller)."""
        with as_path(data, "malicious-packages.zip") as path:
            yield from iter_archive(path, self.name)
