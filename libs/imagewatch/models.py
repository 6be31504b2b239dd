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


class LinkedCode(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a Go binary links of one module (or of the standard library), read from its pclntab.

    ``packages`` are full import paths (``main`` for the binary's own main
    package); ``symbols`` is base64 of the sorted 4-byte BLAKE2b hashes of
    ``path.Symbol`` in OSV spelling (``imagewatch.ecosystems.go.linkage``).
    ``complete_symbols`` is false when the binary had too many symbols to keep.
    """

    packages: list[str] = []
    symbols: str = ""
    complete_symbols: bool = True


class Package(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One installed package, OS or language.

    ``ecosystem`` is the OSV ecosystem name without release (``Debian``, ``Alpine``,
    ``PyPI``, ``npm``, ``Go``, ``Maven``, ``crates.io``, ``RubyGems``, ``NuGet``,
    ``Packagist``, ``Red Hat``, ``Rocky Linux``, ``openSUSE`` ...). OS packages
    carry their source package (dpkg ``Source:``, rpm source rpm, apk origin),
    against which distro advisories are written. ``layer`` is the diff_id of the
    layer that introduced the package, ``path`` the file it was read from.
    ``linked`` (Go binaries) is what the binary links of this module; None when
    unknown.
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
    linked: LinkedCode | None = None


class Finding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A vulnerability affecting one package of one image.

    ``ids`` holds the advisory id first, then every alias (CVE ids included), so
    one vulnerability known under several ids is one finding.
    ``severity_source`` says where the severity came from, as ``kind:where``:
    ``distro:<record>`` (the distribution's own rating), ``advisory:<record>``
    (the matched record's CVSS or rating), ``alias:<record>`` (another record
    of the same vulnerability), ``cve:<provider>:<CVE>`` (CNA or ADP metrics of
    the CVE record), ``nvd:<CVE>``; empty while ``unknown``.
    ``kind`` is ``malware`` when the record is a known-malicious package report (OpenSSF
    ``MAL-`` ids): severity critical, ``summary`` the record's summary. ``reachability``
    (Go binaries) is ``reachable``, ``package-linked`` or ``not-linked`` from the
    binary's function table against the advisory's vulnerable packages and
    symbols, empty when unknown; a ``not-linked`` finding is shown but not alerted.
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
    severity_source: str = ""
    kind: Literal["vulnerability", "malware"] = "vulnerability"
    reachability: Literal["", "reachable", "package-linked", "not-linked"] = ""
    description: str = ""  # the advisory's details, at most DESCRIPTION_LIMIT characters
    references: list[str] = []  # the advisory's reference URLs, at most REFERENCE_LIMIT
    cvss: list[str] = []  # the advisory's CVSS vectors as written (``CVSS:3.1/AV:N/...``)

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_versions)

    @property
    def linked(self) -> bool:
        """False only when the vulnerable code is known not to be in the binary."""
        return self.reachability != "not-linked"

    @property
    def cve(self) -> str | None:
        return next((i for i in self.ids if i.startswith("CVE-")), None)


class SecretFinding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A secret, misconfiguration or malicious file found in an image; never holds the raw value.

    ``fingerprint`` is HMAC-SHA256 of the raw value under the installation key;
    ``preview`` shows at most 4 leading characters. ``layer_index`` counts from 0
    at the base; ``removed_in`` is the index of the later layer that deleted or
    overwrote the file, when one did. Config findings have ``path`` like
    ``config:Env[DATABASE_URL]`` (the variable named), ``config:Cmd`` and no layer.
    ``malware`` findings (YARA rules, persistence and tampering checks) carry no
    fingerprint or preview: never file contents.
    """

    kind: Literal["secret", "misconfiguration", "malware"]
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


class EolFinding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An OS release or runtime in an image past its end of life (endoflife.date).

    ``kind`` is always ``eol``; ``component`` ``os`` or ``runtime``; ``product``
    the endoflife.date product (``debian``, ``python``, ``go`` ...) and
    ``cycle`` its release cycle; ``eol`` the date support ended (empty when
    upstream gives only "ended"); ``evidence`` the package or file that shows
    the runtime; ``latest`` the newest cycle of the product, to move to.
    """

    kind: Literal["eol"] = "eol"
    component: Literal["os", "runtime"]
    product: str
    cycle: str
    name: str
    version: str = ""
    eol: str = ""
    extended_until: str = ""
    evidence: str = ""
    latest: str = ""
