"""Semantic Versioning 2.0.0 (npm, crates.io, OSV ``SEMVER`` ranges).

Hand-written on purpose: the key is a plain tuple (fast to sort and compare,
hundreds of thousands of times per match run) built from the grammar regex
published at semver.org. Precedence: major, minor, patch numerically; a
pre-release sorts before its release; pre-release identifiers compare
numerically when numeric, numeric before alphanumeric, then by count; build
metadata is ignored. Like OSV we accept a leading ``v`` and missing minor or
patch (``1.2`` is ``1.2.0``).
"""

from __future__ import annotations

import re

from imagewatch.versions.base import InvalidVersion, KeyedScheme

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# A release sorts after all of its pre-releases: (1,) > (0, ...).
_RELEASE = (1,)

SemverKey = tuple[int, int, int, tuple]


def semver_key(version: str, scheme: str = "semver") -> SemverKey:
    """The precedence key of a SemVer string; raises InvalidVersion."""
    m = _SEMVER.match(version)
    if m is None:
        raise InvalidVersion(scheme, version)
    major, minor, patch, pre, _build = m.groups()
    if pre is None:
        pre_key: tuple = _RELEASE
    else:
        pre_key = (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor or 0), int(patch or 0), pre_key)


class SemVer(KeyedScheme):
    """SemVer 2.0.0 precedence, as npm and Cargo order versions."""

    name = "semver"

    def parse(self, version: str) -> SemverKey:
        return semver_key(version, self.name)
