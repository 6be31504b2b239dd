"""FIRST EPSS daily scores as a sync source (``epss``): the current gzip CSV, read like ``db import`` reads it."""

from __future__ import annotations

from imagewatch.advisories.sources.signal import FileFeedSource
from imagewatch.signals.epss import URL, EpssFile


class EpssSource(FileFeedSource):
    """``epss_scores-current.csv.gz``; all scores are replaced by the new day's."""

    name = "epss"
    filename = "epss_scores-current.csv.gz"
    kind = EpssFile

    def __init__(self, url: str = URL) -> None:
        super().__init__(url)
