"""Go module versions and Go toolchain versions.

Module versions are SemVer with a ``v`` prefix; pseudo-versions
(``v0.0.0-20210101000000-abcdef123456``, ``v1.2.4-0.2021...``) are SemVer
pre-releases and so order correctly as such; ``+incompatible`` is build
metadata and ignored. OSV records for Go drop the ``v``.

Toolchain versions (module ``stdlib``/``toolchain``) look like ``go1.21.3``,
``go1.21rc2``, ``go1.20beta1`` or ``go1.21``; they are mapped to SemVer the way
golang.org/x/vuln does: ``1.21.0-rc.2``, ``1.20.0-beta.1``, ``1.21.0``.
"""

from __future__ import annotations

import re

from imagewatch.versions.base import KeyedScheme
from imagewatch.versions.semver import SemverKey, semver_key

_TOOLCHAIN = re.compile(r"^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?$")


def go_to_semver(version: str) -> str:
    """Map a Go toolchain version (``go1.21rc2``) to SemVer; other versions pass through."""
    m = _TOOLCHAIN.match(version)
    if m is None:
        return version[2:] if version.startswith("go") else version
    major, minor, patch, pre, num = m.groups()
    out = f"{major}.{minor}.{patch or 0}"
    return f"{out}-{pre}.{num}" if pre else out


class Go(KeyedScheme):
    """Go modules (SemVer, pseudo-versions, +incompatible) and toolchain versions."""

    name = "go"

    def parse(self, version: str) -> SemverKey:
        return semver_key(go_to_semver(version), self.name)
