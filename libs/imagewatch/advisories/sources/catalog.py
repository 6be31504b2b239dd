"""The one catalog of advisory sources that ``imagewatch db sync`` runs.

OSV exports, one per ecosystem, OpenSSF malicious-packages (``ossf-malicious``),
plus the sources an ecosystem folder brings of its own (``Ecosystem.sources`` in ``imagewatch.ecosystems.catalog``).
"""

from __future__ import annotations

from typing import Iterable

from imagewatch.advisories.sources.base import Source
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


def default_sources(ecosystems: Iterable[str] = OSV_ECOSYSTEMS,
                    malicious_url: str = DEFAULT_URL) -> dict[str, Source]:
    """One OSV export per ecosystem, the ecosystems' own sources and OpenSSF malicious-packages, by name.

    Built on call, no I/O; ``malicious_url`` is ``[malware] feed_url``.
    """
    return register([*(OSVSource(e) for e in ecosystems), *(cls() for cls in default_source_classes()),
                     MaliciousPackagesSource(malicious_url)])
