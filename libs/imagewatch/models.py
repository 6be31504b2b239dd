"""Domain records shared by every stage: packages, findings, secrets, layers.

These are msgspec Structs so that they travel unchanged through NATS messages,
PostgreSQL JSON columns and API responses. New fields always get defaults.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Severity = Literal["critical", "high", "medium", "low", "info", "unknown"]
SEVERITY_ORDER: dict[str, int] = {
    "critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1, "unknown": 0,
}


class OSInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The distribution an image is built on, read from os-release and friends.

    ``id`` is the os-release ID (``debian``, ``alpine``, ``ubuntu``, ``rhel`` ...),
    ``version_id`` its VERSION_ID (``12``, ``3.19.1``, ``22.04``).
    """

    id: str
    version_id: str = ""
    version_codename: str = ""
    pretty_name: str = ""


class Package(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One installed package, OS or language.

    ``ecosystem`` is the OSV ecosystem name without release (``Debian``, ``Alpine``,
    ``PyPI``, ``npm``, ``Go``, ``Maven``, ``crates.io``, ``RubyGems``, ``NuGet``,
    ``Packagist``, ``Red Hat``, ``Rocky Linux``, ``openSUSE`` ...). OS packages
    carry their source package (dpkg ``Source:``, rpm source rpm, apk origin),
    against which distro advisories are written. ``layer`` is the diff_id of the
    layer that introduced the package, ``path`` the file it was read from.
    """

    name: str
    version: str
    ecosystem: str
    purl: str = ""
    source_name: str = ""
    source_version: str = ""
    arch: str = ""
    epoch: int | None = None
    layer: str = ""
    path: str = ""
    licenses: list[str] = []
    kind: Literal["os", "lang"] = "lang"


class Finding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A vulnerability affecting one package of one image.

    ``ids`` holds the advisory id first, then every alias (CVE ids included), so
    one vulnerability known under several ids is one finding.
    """

    advisory_id: str
    ids: list[str] = []
    package: str
    version: str
    ecosystem: str
    purl: str = ""
    fixed_versions: list[str] = []
    severity: Severity = "unknown"
    score: float | None = None
    summary: str = ""
    layer: str = ""
    path: str = ""
    description: str = ""  # the advisory's details, at most DESCRIPTION_LIMIT characters
    references: list[str] = []  # the advisory's reference URLs, at most REFERENCE_LIMIT
    cvss: list[str] = []  # the advisory's CVSS vectors as written (``CVSS:3.1/AV:N/...``)

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_versions)

    @property
    def cve(self) -> str | None:
        return next((i for i in self.ids if i.startswith("CVE-")), None)


class SecretFinding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A secret or misconfiguration found in an image; never holds the raw value.

    ``fingerprint`` is HMAC-SHA256 of the raw value under the installation key;
    ``preview`` shows at most 4 leading characters. ``layer_index`` counts from 0
    at the base; ``removed_in`` is the index of the later layer that deleted or
    overwrote the file, when one did. Config findings have ``path`` like
    ``config:Env`` and no layer.
    """

    kind: Literal["secret", "misconfiguration"]
    rule_id: str
    title: str
    severity: Severity
    path: str = ""
    line: int = 0
    layer: str = ""
    layer_index: int | None = None
    removed_in: int | None = None
    fingerprint: str = ""
    preview: str = ""
    remediation: str = ""


class LayerRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One layer of an image manifest: compressed digest, uncompressed diff_id."""

    digest: str
    diff_id: str
    size: int
    media_type: str
