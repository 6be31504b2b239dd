"""Package name normalisation per ecosystem, applied to advisories and inventories alike.

PyPI: PEP 503 (lowercase, runs of ``-_.`` become ``-``). NuGet and Packagist
names are case-insensitive and published lowercase. npm, Go module paths,
Maven ``group:artifact``, crates.io, RubyGems and distro source packages are
compared exactly as written: OSV publishes them in their canonical spelling.
"""

from __future__ import annotations

import re

from imagewatch.versions import base_ecosystem

_PEP503 = re.compile(r"[-_.]+")
_LOWERCASE = frozenset({"NuGet", "Packagist"})


def normalise_name(ecosystem: str, name: str) -> str:
    """The name under which ``name`` is looked up in ``ecosystem`` (release suffix allowed)."""
    base = base_ecosystem(ecosystem)
    if base == "PyPI":
        return _PEP503.sub("-", name).lower()
    if base in _LOWERCASE:
        return name.lower()
    return name
