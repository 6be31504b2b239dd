"""RubyGems ``Gem::Version`` ordering (a letter segment makes a pre-release; ``1.0 ==
1.0.0``), as ported by ``univers`` from RubyGems itself.
"""

from __future__ import annotations

from univers.versions import RubygemsVersion

from imagewatch.versions.base import KeyedScheme


class RubyGems(KeyedScheme):
    """RubyGems ``Gem::Version`` ordering (a letter segment makes a pre-release; ``1.0 == 1.0.0``)."""

    name = "rubygems"

    def parse(self, version: str) -> RubygemsVersion:
        return RubygemsVersion(version)
