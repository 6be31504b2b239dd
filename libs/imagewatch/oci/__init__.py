"""OCI distribution client: references, auth, manifests, platforms, verified blobs.

The public API is ``__all__``; the modules behind it are implementation.
``RegistryClient`` and ``Sink`` are imported on first use: they need aiohttp
(~0.15 s to import), which scanning a local archive or layout never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagewatch.oci.errors import (
    AuthError,
    BlobTooLarge,
    DigestMismatch,
    Forbidden,
    InvalidManifest,
    InvalidReference,
    NoMatchingPlatform,
    NotFound,
    RateLimited,
    RegistryError,
    RegistryUnavailable,
    SizeMismatch,
    Unauthorized,
    UnexpectedResponse,
    UnsupportedMediaType,
    VerificationError,
)
from imagewatch.oci.image import ImageConfig, image_layers, parse_config
from imagewatch.oci.limits import RegistryLimits
from imagewatch.oci.manifest import Descriptor, ImageIndex, ImageManifest, Platform, parse_manifest
from imagewatch.oci.platforms import DEFAULT_PLATFORMS, PlatformSelection, parse_platform, select_platforms
from imagewatch.oci.reference import Reference
from imagewatch.oci.resolved import FetchedManifest, PlatformManifest, ResolvedImage

if TYPE_CHECKING:
    from imagewatch.oci.client import RegistryClient, Sink

_LAZY = {"RegistryClient", "Sink"}

__all__ = [
    "AuthError", "BlobTooLarge", "DEFAULT_PLATFORMS", "Descriptor", "DigestMismatch",
    "FetchedManifest", "Forbidden", "ImageConfig", "ImageIndex", "ImageManifest",
    "InvalidManifest", "InvalidReference", "NoMatchingPlatform", "NotFound", "Platform",
    "PlatformManifest", "PlatformSelection", "RateLimited", "Reference", "RegistryClient",
    "RegistryError", "RegistryLimits", "RegistryUnavailable", "ResolvedImage", "SizeMismatch",
    "Sink", "Unauthorized", "UnexpectedResponse", "UnsupportedMediaType", "VerificationError",
    "image_layers", "parse_config", "parse_manifest", "parse_platform", "select_platforms",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from imagewatch.oci import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
