"""OCI distribution client: references, auth, manifests, platforms, verified blobs.

The public API is ``__all__``; the modules behind it are implementation.
"""

from .client import RegistryClient, Sink
from .errors import (
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
from .image import ImageConfig, image_layers, parse_config
from .limits import RegistryLimits
from .manifest import Descriptor, ImageIndex, ImageManifest, Platform, parse_manifest
from .platforms import DEFAULT_PLATFORMS, PlatformSelection, parse_platform, select_platforms
from .reference import Reference
from .resolved import FetchedManifest, PlatformManifest, ResolvedImage

__all__ = [
    "AuthError", "BlobTooLarge", "DEFAULT_PLATFORMS", "Descriptor", "DigestMismatch",
    "FetchedManifest", "Forbidden", "ImageConfig", "ImageIndex", "ImageManifest",
    "InvalidManifest", "InvalidReference", "NoMatchingPlatform", "NotFound", "Platform",
    "PlatformManifest", "PlatformSelection", "RateLimited", "Reference", "RegistryClient",
    "RegistryError", "RegistryLimits", "RegistryUnavailable", "ResolvedImage", "SizeMismatch",
    "Sink", "Unauthorized", "UnexpectedResponse", "UnsupportedMediaType", "VerificationError",
    "image_layers", "parse_config", "parse_manifest", "parse_platform", "select_platforms",
]
