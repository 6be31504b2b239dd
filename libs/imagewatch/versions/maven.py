"""Maven ComparableVersion rules (qualifier order alpha < beta < milestone < rc = cr <
snapshot < "" = ga = final < sp; trailing zeros ignored), as ported by ``univers`` from
Maven's own class.
"""

from __future__ import annotations

from univers.versions import MavenVersion

from imagewatch.versions.base import KeyedScheme


class Maven(KeyedScheme):
    """Maven ComparableVersion rules (qualifier order alpha < beta < milestone < rc = cr < snapshot < "" = ga = final < sp; trailing zeros ignored)."""

    name = "maven"

    def parse(self, version: str) -> MavenVersion:
        return MavenVersion(version)
