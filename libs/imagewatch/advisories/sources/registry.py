"""The one registry of advisory sources that ``imagewatch db sync`` runs."""

from __future__ import annotations

from typing import Iterable

from .alpine_secdb import AlpineSecdbSource
from .base import Source
from .osv import OSV_ECOSYSTEMS, OSVSource


def register(sources: Iterable[Source]) -> dict[str, Source]:
    """Sources by name; a duplicate name raises ValueError."""
    out: dict[str, Source] = {}
    for source in sources:
        if source.name in out:
            raise ValueError(f"advisories.sources: duplicate source {source.name!r}")
        out[source.name] = source
    return out


def default_sources(ecosystems: Iterable[str] = OSV_ECOSYSTEMS) -> dict[str, Source]:
    """One OSV export per ecosystem plus Alpine secdb, by name (built on call, no I/O)."""
    return register([*(OSVSource(e) for e in ecosystems), AlpineSecdbSource()])
