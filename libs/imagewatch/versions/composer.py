"""Composer (Packagist) versions.

Hand-written: ``univers``' Composer class misorders ``RC`` against ``beta`` and
``-patch`` against the release. This follows Composer's VersionParser::normalize
(up to four numbers, missing ones are 0; stability suffix ``alpha``/``a``,
``beta``/``b``, ``RC``, ``patch``/``pl``/``p`` with an optional number; a ``-dev``
suffix) and then the ordering PHP's version_compare gives normalised versions:
dev < alpha < beta < RC < release < patch.
"""

from __future__ import annotations

import re

from imagewatch.versions.base import InvalidVersion, KeyedScheme

_VERSION = re.compile(
    r"^v?(\d+(?:\.\d+)*)"
    r"(?:[._-]?(stable|beta|b|rc|alpha|a|patch|pl|p|dev)((?:[.-]?\d+)*))?"
    r"([.-]?dev)?$",
    re.IGNORECASE,
)
_STABILITY = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "stable": 4,
              "patch": 5, "pl": 5, "p": 5}


class Composer(KeyedScheme):
    """Composer versions: ``1.0.0-beta2 < 1.0.0-RC1 < 1.0.0 < 1.0.0-patch1``."""

    name = "composer"

    def parse(self, version: str) -> tuple:
        m = _VERSION.match(version)
        if m is None:
            raise InvalidVersion(self.name, version)
        nums, stability, stab_nums, dev = m.groups()
        numbers = tuple(int(n) for n in nums.split("."))
        numbers += (0,) * (4 - len(numbers))
        rank = _STABILITY[(stability or "stable").lower()]
        extra = tuple(int(n) for n in re.findall(r"\d+", stab_nums or ""))
        return (numbers, rank, extra, 0 if dev else 1)
