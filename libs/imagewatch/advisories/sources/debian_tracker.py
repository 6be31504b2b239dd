"""The Debian security tracker JSON as a sync source (``debian-tracker``), converted like ``db import`` converts it.

``https://security-tracker.debian.org/tracker/data/json`` (package → issue →
release status, urgency) becomes ``DEBIAN-<id>`` OSV records
(``ecosystems.debian.tracker``), stored under the same source name an import
of the file uses, so matchers re-match the changed (ecosystem, package) pairs.
"""

from __future__ import annotations

from imagewatch.advisories.load import Record
from imagewatch.advisories.model import Advisory
from imagewatch.advisories.sources.signal import FileFeedSource
from imagewatch.ecosystems.debian.tracker import SOURCE

URL = "https://security-tracker.debian.org/tracker/data/json"


class DebianTrackerSource(FileFeedSource):
    """The whole tracker JSON (tens of MB); its records are advisories, not signals."""

    name = "debian-tracker"
    filename = "debian-security-tracker.json"
    kind = Advisory
    signals = False

    def __init__(self, url: str = URL) -> None:
        super().__init__(url)

    def wanted(self, record: Record) -> bool:
        """Only records converted from the tracker document (not a stray OSV file)."""
        return isinstance(record, Advisory) and (record.database_specific or {}).get("source") == SOURCE
