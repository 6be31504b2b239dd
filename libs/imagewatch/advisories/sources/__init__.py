"""Advisory sources: one module per upstream feed, one Protocol, one registry."""

from .alpine_secdb import AlpineSecdbSource
from .base import Source, SourceError, Unchanged, discard
from .osv import OSV_ECOSYSTEMS, OSVSource
from .registry import default_sources, register

__all__ = [
    "OSV_ECOSYSTEMS", "AlpineSecdbSource", "OSVSource", "Source", "SourceError", "Unchanged",
    "default_sources", "discard", "register",
]
