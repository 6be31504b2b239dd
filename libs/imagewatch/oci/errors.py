"""Errors raised by the registry client; every message starts with ``registry:``.

One base class, one subclass per case a caller may want to treat differently::

    RegistryError
    ├── InvalidReference        a reference, digest or platform string does not parse
    ├── RegistryUnavailable     connection errors, timeouts, 5xx after the retries
    │   └── RateLimited         429 after the retries
    ├── AuthError
    │   ├── Unauthorized        401: no or wrong credentials, token refused
    │   └── Forbidden           403: authenticated but not allowed
    ├── NotFound                404: repository, tag, manifest or blob unknown
    ├── InvalidManifest         malformed manifest, index or config JSON
    │   ├── UnsupportedMediaType  schema1 and other manifests we do not read
    │   ├── NoMatchingPlatform    an index holds none of the wanted platforms
    │   └── AmbiguousPlatform     an index holds two manifests for one platform (oci/platforms.py)
    ├── EgressRefused           the egress policy forbids the request (oci/egress.py)
    ├── VerificationError       content does not match what was promised
    │   ├── DigestMismatch      bytes hash to another digest
    │   └── SizeMismatch        more or fewer bytes than the descriptor says
    ├── BlobTooLarge            a manifest, config or blob exceeds its size limit
    └── UnexpectedResponse      any other status code

``RegistryUnavailable`` and ``RateLimited`` are transient (worth a later retry);
the rest are permanent for the same reference and content.
"""

from __future__ import annotations
from imagewatch.errors import ImagewatchError

PREFIX = "registry: "


class RegistryError(ImagewatchError):
    """Base of every registry client error; the message names what failed."""

    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message if message.startswith(PREFIX) else PREFIX + message)


class InvalidReference(RegistryError, ValueError):
    """A reference, digest or platform string does not parse (also a ValueError)."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or kept failing (5xx) after the retries."""

    transient = True


class RateLimited(RegistryUnavailable):
    """The registry kept answering 429 after the retries."""


class AuthError(RegistryError):
    """Authentication or authorisation failed."""


class Unauthorized(AuthError):
    """401: credentials missing or refused, or the token server said no."""


class Forbidden(AuthError):
    """403: the credentials are valid but do not grant access."""


class NotFound(RegistryError):
    """404: the repository, tag, manifest or blob does not exist."""


class InvalidManifest(RegistryError):
    """A manifest, index or image config is malformed."""


class UnsupportedMediaType(InvalidManifest):
    """The manifest has a media type this client does not read (e.g. schema 1)."""


class NoMatchingPlatform(InvalidManifest):
    """An index holds none of the requested platforms."""


class VerificationError(RegistryError):
    """Content does not match its descriptor."""


class DigestMismatch(VerificationError):
    """The content hashes to another digest than the one it was fetched by."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"{what}: content does not match its digest {expected} (got {actual})")


class SizeMismatch(VerificationError):
    """The content has another length than its descriptor says."""


class BlobTooLarge(RegistryError):
    """A manifest, config or blob exceeds its configured size limit."""


class UnexpectedResponse(RegistryError):
    """The registry answered with a status code this client does not expect."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)
