"""CISA's Known Exploited Vulnerabilities catalog as a sync source (``kev``), read like ``db import`` reads it."""

from __future__ import annotations

from imagewatch.advisories.sources.signal import FileFeedSource
from imagewatch.signals.kev import URL, KevCatalog


class KevSource(FileFeedSource):
    """The whole KEV catalog JSON; newly listed CVEs are announced in ``exploited``."""

    name = "kev"
    filename = "known_exploited_vulnerabilities.json"
    kind = KevCatalog

    def __init__(self, url: str = URL) -> None:
        super().__init__(url)
