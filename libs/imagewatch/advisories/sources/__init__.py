"""Advisory sources: one module per upstream feed, one Protocol, one catalog (Alpine secdb lives with its ecosystem, ``imagewatch.ecosystems.alpine.secdb``)."""

from imagewatch.advisories.sources.base import Source, SourceError, Unchanged, discard
from imagewatch.advisories.sources.osv import OSV_ECOSYSTEMS, OSVSource

__all__ = [
    "OSV_ECOSYSTEMS", "OSVSource", "Source", "SourceError", "Unchanged",
    "discard",
]
