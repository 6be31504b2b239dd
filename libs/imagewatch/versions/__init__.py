"""Version schemes: one module per ecosystem ordering, one Protocol, one registry.

>>> scheme_for("Debian:12").compare("1.0~rc1", "1.0")
-1
"""

from imagewatch.versions.base import InvalidVersion, KeyedScheme, VersionScheme
from imagewatch.versions.schemes import ECOSYSTEMS, SCHEMES, UnknownEcosystem, base_ecosystem, scheme_for

__all__ = [
    "ECOSYSTEMS", "SCHEMES", "InvalidVersion", "KeyedScheme", "UnknownEcosystem",
    "VersionScheme", "base_ecosystem", "scheme_for",
]
