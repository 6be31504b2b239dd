"""Manifest and index documents (OCI and Docker v2), decoded with msgspec."""

from __future__ import annotations

import msgspec

from imagewatch.oci import mediatypes
from imagewatch.oci.errors import InvalidManifest, UnsupportedMediaType


class Platform(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """The platform an index entry is built for."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = msgspec.field(default="", name="os.version")

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


class Descriptor(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A pointer to content: media type, digest, size, maybe a platform."""

    mediaType: str = ""
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = {}
    urls: list[str] = []


class ImageManifest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One image: a config blob and its layers, base first."""

    schemaVersion: int
    mediaType: str = ""
    config: Descriptor
    layers: list[Descriptor] = []
    annotations: dict[str, str] = {}


class ImageIndex(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An OCI index or Docker manifest list: one manifest per platform."""

    schemaVersion: int
    mediaType: str = ""
    manifests: list[Descriptor] = []
    annotations: dict[str, str] = {}


_GENERIC = frozenset({"application/json", "text/plain", "application/octet-stream", "binary/octet-stream"})
_MANIFEST = msgspec.json.Decoder(ImageManifest)
_INDEX = msgspec.json.Decoder(ImageIndex)


def sniff_media_type(data: bytes, content_type: str = "") -> str:
    """The manifest's media type: the response header when specific, else the body."""
    content_type = content_type.split(";")[0].strip()
    if content_type and content_type not in _GENERIC:
        return content_type
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidManifest(f"manifest is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest is not a JSON object")
    if isinstance(doc.get("mediaType"), str) and doc["mediaType"]:
        return doc["mediaType"]
    if doc.get("schemaVersion") == 1:
        return mediatypes.DOCKER_SCHEMA1
    if "manifests" in doc:
        return mediatypes.OCI_INDEX
    if "config" in doc:
        return mediatypes.OCI_MANIFEST
    return content_type or "unknown"


def parse_manifest(data: bytes, media_type: str) -> ImageManifest | ImageIndex:
    """Decode a manifest or index of ``media_type``; anything else is unsupported."""
    if media_type in mediatypes.INDEXES:
        decoder = _INDEX
    elif media_type in mediatypes.IMAGE_MANIFESTS:
        decoder = _MANIFEST
    else:
        raise UnsupportedMediaType(f"unsupported manifest media type {media_type!r}")
    try:
        doc = decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidManifest(f"malformed {media_type}: {exc}") from None
    if doc.schemaVersion != 2:
        raise UnsupportedMediaType(f"unsupported manifest schemaVersion {doc.schemaVersion}")
    return doc
