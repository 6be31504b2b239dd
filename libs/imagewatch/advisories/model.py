"""The advisory record, shaped after the OSV schema (https://ossf.github.io/osv-schema/).

Timestamps stay RFC 3339 strings as published; they are only compared for
equality and shown. Unknown fields are ignored on decode, so newer schema
versions still load.
"""

from __future__ import annotations

from typing import Any

import msgspec
from imagewatch.errors import ImagewatchError


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One range event; exactly one field is set."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class Range(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Affected versions as events over one ordering: ``SEMVER``, ``ECOSYSTEM`` or ``GIT``."""

    type: str
    repo: str = ""
    events: list[Event] = []
    database_specific: dict[str, Any] | None = None


class PackageRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The package an affected entry is about; ``ecosystem`` may carry a release."""

    ecosystem: str
    name: str
    purl: str = ""


class SeverityScore(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A severity: ``CVSS_V2``/``CVSS_V3``/``CVSS_V4`` vector, or a distro rating (``Ubuntu``)."""

    type: str
    score: str


class Affected(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One affected package with its ranges and/or explicit versions."""

    package: PackageRef | None = None
    severity: list[SeverityScore] | None = None
    ranges: list[Range] = []
    versions: list[str] = []
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class Reference(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A link about the vulnerability (ADVISORY, FIX, WEB ...)."""

    type: str
    url: str


class Advisory(msgspec.Struct, kw_only=True, omit_defaults=True, dict=True):
    """One vulnerability record. ``withdrawn`` set means it no longer matches.

    ``dict=True`` lets the matcher keep its prepared form on the object (``compiled.py``);
    it is never encoded.
    """

    id: str
    schema_version: str = ""
    modified: str = ""
    published: str = ""
    withdrawn: str = ""
    aliases: list[str] = []
    related: list[str] = []
    upstream: list[str] = []
    summary: str = ""
    details: str = ""
    severity: list[SeverityScore] | None = None
    affected: list[Affected] = []
    references: list[Reference] = []
    credits: list[dict[str, Any]] = []
    database_specific: dict[str, Any] | None = None

    @property
    def ids(self) -> list[str]:
        """The advisory id first, then its aliases and upstream ids, without duplicates.

        Distribution records (``DEBIAN-CVE-…``, ``UBUNTU-CVE-…``) name the CVE
        they track in ``upstream``; it is an alias for finding and rating them.
        """
        return list(dict.fromkeys([self.id, *self.aliases, *self.upstream]))


_JSON_DECODER = msgspec.json.Decoder(Advisory)
_JSON_ENCODER = msgspec.json.Encoder()


class AdvisoryError(ImagewatchError, ValueError):
    """A record that is not a valid OSV advisory; the message names it."""


def decode_json(data: bytes | str, origin: str = "") -> Advisory:
    """Decode one OSV JSON document."""
    try:
        return _JSON_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise AdvisoryError(f"advisories: {origin or 'record'}: {exc}") from None


def from_dict(obj: dict[str, Any], origin: str = "") -> Advisory:
    """Build an advisory from parsed JSON/YAML (timestamps may be datetimes)."""
    for field in ("modified", "published", "withdrawn"):
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            obj = {**obj, field: value.isoformat().replace("+00:00", "Z")}
    try:
        return msgspec.convert(obj, Advisory)
    except msgspec.ValidationError as exc:
        raise AdvisoryError(f"advisories: {origin or obj.get('id', 'record')}: {exc}") from None


def encode_json(advisory: Advisory) -> bytes:
    """Encode an advisory as OSV JSON."""
    return _JSON_ENCODER.encode(advisory)
