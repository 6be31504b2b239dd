"""What the exploitation/end-of-life feeds (KEV, EPSS, endoflife.date) share: a download read by ``db import``'s code.

A signal source's ``parse`` yields the records ``advisories.load.load_records``
makes of the same file (``KevCatalog``, ``EpssFile``, ``EolCatalog``), never
advisories; ``updater.sync.run_source`` stores them with ``store_signals``
exactly as an import does. A payload that holds none of the expected kind
fails the sync and leaves what was stored in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from imagewatch.advisories.load import Record, load_records
from imagewatch.advisories.sources.base import SourceError
from imagewatch.advisories.sources.http import as_path, download_to_temp


class FileFeedSource:
    """One file downloaded conditionally (ETag / Last-Modified), read as ``db import`` reads it.

    Subclasses set ``name``, ``filename`` (its suffix picks the reader) and ``kind`` (the record type expected).
    """

    name = ""
    filename = ""
    kind: type = object
    signals = True
    max_bytes = 1 << 30

    def __init__(self, url: str) -> None:
        self.url = url

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Download the file to a temporary path unless its fingerprint still holds."""
        return await download_to_temp(session, self.name, self.url, fingerprint, self.filename, self.max_bytes)

    def parse(self, data: bytes | Path) -> Iterator[Record]:
        """The records of the payload, as ``db import`` reads the same file; none of ``kind`` raises SourceError."""
        found = 0
        with as_path(data, self.filename) as path:
            try:
                for record in load_records([path]):
                    if self.wanted(record):
                        found += 1
                        yield record
            except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
                raise SourceError(f"{self.name}: {self.url}: unreadable: {type(exc).__name__}: {exc}") from None
        if not found:
            raise SourceError(f"{self.name}: {self.url}: not a {self.kind.__name__} file")

    def wanted(self, record: Record) -> bool:
        """Whether a record read from the payload belongs to this source (others are ignored)."""
        return isinstance(record, self.kind)
