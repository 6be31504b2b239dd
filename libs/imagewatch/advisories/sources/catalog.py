"""The one catalog of advisory sources that ``imagewatch db sync`` runs.

OSV exports, one per ecosystem, OpenSSF malicious-packages (``ossf-malicious``),
the Debian security tracker (``debian-tracker``), CISA KEV (``kev``), FIRST
EPSS (``epss``) and endoflife.date (``endoflife``), plus the sources an ecosystem folder brings of its own (``Ecosystem.sources`` in ``imagewatch.ecosystems.catalog``).
"""

from __future__ import annotations

from typing import Any, Iterable

from imagewatch.advisories.sources.base import Source
from imagewatch.advisories.sources.debian_tracker import DebianTrackerSource
from imagewatch.advisories.sources.endoflife import EndOfLifeSource
from imagewatch.advisories.sources.epss import EpssSource
from imagewatch.advisories.sources.kev import KevSource
from imagewatch.advisories.sources.malicious import DEFAULT_URL, MaliciousPackagesSource
from imagewatch.advisories.sources.osv import OSV_ECOSYSTEMS, OSVSource
from imagewatch.ecosystems.catalog import default_source_classes


def register(sources: Iterable[Source]) -> dict[str, Source]:
    """Sources by name; a duplicate name raises ValueError."""
    out: dict[str, Source] = {}
    for source in sources:
        if source.name in out:
            raise ValueError(f"advisories.sources: duplicate source {source.name!r}")
        out[source.name] = source
    return out


# source name -> the ``[feeds]`` field holding its URL
FEED_URLS = {"kev": "kev_url", "epss": "epss_url", "endoflife": "endoflife_url",
             "debian-tracker": "debian_tracker_url"}


def default_sources(ecosystems: Iterable[str] = OSV_ECOSYSTEMS,
                    malicious_url: str = DEFAULT_URL, feeds: Any = None) -> dict[str, Source]:
    """One OSV export per ecosystem, the ecosystems' own sources, OpenSSF malicious-packages and the feeds, by name.

    Built on call, no I/O; ``malicious_url`` is ``[malware] feed_url``, ``feeds``
    the ``[feeds]`` section (``config.FeedsConfig``; default URLs when None).
    """
    return configure_feeds(register([
        *(OSVSource(e) for e in ecosystems), *(cls() for cls in default_source_classes()),
        MaliciousPackagesSource(malicious_url), DebianTrackerSource(), KevSource(), EpssSource(),
        EndOfLifeSource()]), feeds)


def configure_feeds(sources: dict[str, Source], feeds: Any) -> dict[str, Source]:
    """Point the feed sources among ``sources`` at the URLs of ``feeds`` (``[feeds]``); returns ``sources``."""
    if feeds is not None:
        for name, field in FEED_URLS.items():
            source = sources.get(name)
            if source is not None and hasattr(source, "url"):
                source.url = getattr(feeds, field)
    return sources
