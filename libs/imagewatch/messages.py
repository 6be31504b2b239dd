"""Messages on the bus: one msgspec Struct per subject, versioned.

Every message carries ``v`` (its schema version). Fields are only ever added,
always with defaults, and types never change; decoders ignore unknown fields so
that mixed versions run side by side during a rolling upgrade. Each subject has
one Decoder created once (``decoder_for``).

Subjects::

    iw.push        PushEvent       api -> fetcher
    iw.fetched     Fetched         fetcher -> inventory, secrets
    iw.inventory   InventoryReady  inventory -> matcher
    iw.findings    FindingsReady   matcher -> notifier
    iw.secrets     SecretsReady    secrets -> notifier
    iw.vulndb      VulnDBChanged   updater -> matcher
    iw.dlq.<stage> DeadLetter      bus -> api (/v1/dlq)
"""

from __future__ import annotations

from typing import Literal

import msgspec

from imagewatch.models import LayerRef

SUBJECT_PUSH = "iw.push"
SUBJECT_FETCHED = "iw.fetched"
SUBJECT_INVENTORY = "iw.inventory"
SUBJECT_FINDINGS = "iw.findings"
SUBJECT_SECRETS = "iw.secrets"
SUBJECT_VULNDB = "iw.vulndb"
SUBJECT_DLQ_PREFIX = "iw.dlq."


class PushEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A manifest was pushed (or a scan was asked for): fetch and scan it.

    ``registry`` is ``host[:port]``. Either ``digest`` or ``tag`` is set (Docker
    Hub and Quay name tags only; the fetcher resolves them). ``event_id`` is the
    registry's own event id when it has one, else a digest of the payload; it
    keys deduplication on the stream.
    """

    v: int = 1
    event_id: str
    source: str
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""
    media_type: str = ""
    received_at: float = 0.0

    @property
    def reference(self) -> str:
        ref = f"{self.registry}/{self.repository}"
        if self.tag:
            ref += f":{self.tag}"
        if self.digest:
            ref += f"@{self.digest}"
        return ref


class Fetched(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One platform image is recorded and its new layer blobs are in the blob store.

    ``layers`` is bottom to top. ``new_layers`` lists the diff_ids whose blobs
    were stored because no stage had analysed them before; the blob store key
    of a layer is its compressed ``digest``.
    """

    v: int = 1
    image_digest: str
    registry: str
    repository: str
    tag: str = ""
    platform: str = ""
    config_digest: str = ""
    index_digest: str = ""
    layers: list[LayerRef] = []
    new_layers: list[str] = []


class InventoryReady(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The image's package list is stored; match it."""

    v: int = 1
    image_digest: str
    registry: str = ""
    repository: str
    tag: str = ""
    package_count: int = 0


class FindingsReady(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Findings for an image are stored.

    ``reason`` is ``push`` after a new image, ``advisory`` when new advisories
    affect an image already known. ``new`` and ``fixed`` are advisory ids
    relative to the previous image of the same repository and tag.
    """

    v: int = 1
    image_digest: str
    registry: str = ""
    repository: str
    tag: str = ""
    reason: Literal["push", "advisory"] = "push"
    counts: dict[str, int] = {}
    new: list[str] = []
    fixed: list[str] = []
    advisories: list[str] = []


class SecretsReady(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Secret and misconfiguration findings for an image are stored."""

    v: int = 1
    image_digest: str
    registry: str = ""
    repository: str
    tag: str = ""
    counts: dict[str, int] = {}


class PackageKey(msgspec.Struct, kw_only=True, array_like=False):
    """An (ecosystem, package name) pair whose advisories changed."""

    ecosystem: str
    name: str


class VulnDBChanged(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Advisories changed for these packages: re-match images that have them.

    ``rated`` lists CVE ids whose CVSS rating (CVE record, NVD) changed: images
    with findings under them are re-rated. ``exploited`` lists CVE ids newly
    listed in CISA KEV: images with findings under them get an alert.
    """

    v: int = 1
    update_id: str
    source: str
    changed: list[PackageKey] = []
    advisories: list[str] = []
    rated: list[str] = []
    exploited: list[str] = []


class DeadLetter(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A message that failed ``max_deliver`` times or permanently, with its error."""

    v: int = 1
    stage: str
    subject: str
    data: bytes
    error: str
    deliveries: int = 0
    failed_at: float = 0.0
    msg_id: str = ""


SUBJECT_TYPES: dict[str, type[msgspec.Struct]] = {
    SUBJECT_PUSH: PushEvent,
    SUBJECT_FETCHED: Fetched,
    SUBJECT_INVENTORY: InventoryReady,
    SUBJECT_FINDINGS: FindingsReady,
    SUBJECT_SECRETS: SecretsReady,
    SUBJECT_VULNDB: VulnDBChanged,
}

_DECODERS: dict[type, msgspec.json.Decoder] = {}
_ENCODER = msgspec.json.Encoder()


def decoder_for(kind: type[msgspec.Struct]) -> msgspec.json.Decoder:
    """The one reused JSON decoder for a message type."""
    dec = _DECODERS.get(kind)
    if dec is None:
        dec = _DECODERS[kind] = msgspec.json.Decoder(kind)
    return dec


def encode(msg: msgspec.Struct) -> bytes:
    """Encode a message as JSON bytes."""
    return _ENCODER.encode(msg)


def json_schemas() -> dict[str, dict]:
    """JSON Schema of each subject's message type, keyed by subject."""
    return {subject: msgspec.json.schema(kind) for subject, kind in SUBJECT_TYPES.items()}
