"""What the client hands back: fetched manifests, per-platform manifests, images."""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from imagewatch.models import LayerRef
from imagewatch.oci.image import ImageConfig
from imagewatch.oci.manifest import ImageManifest
from imagewatch.oci.reference import Reference


class FetchedManifest(NamedTuple):
    """A manifest or index as served, verified: ``digest, media_type, data = ...``."""

    digest: str
    media_type: str
    data: bytes


class PlatformManifest(msgspec.Struct, kw_only=True):
    """One image manifest chosen for scanning, verified against its digest.

    ``platform`` comes from the index entry (empty when the reference named a
    single manifest); ``index_digest`` is the index it was selected from, or empty.
    """

    reference: Reference
    digest: str
    media_type: str
    data: bytes
    manifest: ImageManifest
    platform: str = ""
    index_digest: str = ""


class ResolvedImage(msgspec.Struct, kw_only=True):
    """One platform image with its verified config and layer list (no layer bytes)."""

    reference: Reference
    digest: str
    media_type: str
    manifest_data: bytes
    platform: str
    index_digest: str
    config_digest: str
    config_data: bytes
    config: ImageConfig
    layers: list[LayerRef]
