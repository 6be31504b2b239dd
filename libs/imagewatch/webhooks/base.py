"""The webhook source Protocol and helpers shared by the formats."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from imagewatch.messages import PushEvent
from imagewatch.errors import ImagewatchError

MANIFEST_MEDIA_TYPES = frozenset({
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
})


class WebhookError(ImagewatchError, ValueError):
    """webhook: the payload is malformed; the message says why (answered 400)."""


class WebhookSource(Protocol):
    """Turns one registry's webhook payload into push events (possibly none)."""

    name: str

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        """Push events in ``body``; raises :class:`WebhookError` when malformed."""
        ...


def require(obj: Any, key: str, kind: type, where: str) -> Any:
    """``obj[key]`` checked to be of ``kind``, else a WebhookError naming the field."""
    if not isinstance(obj, dict):
        raise WebhookError(f"{where}: expected an object")
    if key not in obj:
        raise WebhookError(f"{where}.{key}: missing")
    value = obj[key]
    if not isinstance(value, kind):
        raise WebhookError(f"{where}.{key}: expected {kind.__name__}")
    return value


def event_id(source: str, *parts: str) -> str:
    """A stable id for an event without one of its own."""
    return source + ":" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def checked_event(event: PushEvent) -> PushEvent:
    """``event`` with its reference parsed and normalised by the one parser; WebhookError when invalid.

    Every push event entering imagewatch (webhooks, ``POST /v1/scans``) passes
    here, so the fetcher only ever contacts a host named by a valid reference.
    """
    from imagewatch.oci import InvalidReference, Reference

    try:
        ref = Reference.parse(event.reference)
    except InvalidReference as exc:
        raise WebhookError(f"reference {event.reference[:300]!r}: {exc}") from None
    return msgspec.structs.replace(event, registry=ref.registry, repository=ref.repository,
                                   tag=ref.tag if event.tag else "", digest=ref.digest)


def split_reference(ref: str) -> tuple[str, str, str, str]:
    """``host/repo[:tag][@digest]`` → (registry, repository, tag, digest)."""
    ref = ref.removeprefix("https://").removeprefix("http://")
    digest = ""
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    host, _, rest = ref.partition("/")
    if not rest:
        raise WebhookError(f"reference {ref!r}: expected host/repository")
    tag = ""
    if ":" in rest.rsplit("/", 1)[-1]:
        rest, tag = rest.rsplit(":", 1)
    return host, rest, tag, digest


def now() -> float:
    return time.time()
