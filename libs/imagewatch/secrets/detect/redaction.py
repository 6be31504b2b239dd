"""Fingerprint and preview: the only forms in which a secret leaves the scanner."""

from __future__ import annotations

import hashlib
import hmac

MASK = "****"


def fingerprint(key: bytes, secret: bytes) -> str:
    """HMAC-SHA256 of the raw secret under the installation ``key``, as hex."""
    return hmac.new(key, secret, hashlib.sha256).hexdigest()


def preview(secret: str) -> str:
    """At most 4 leading characters then ``****``; fewer for short secrets.

    A quarter of the secret is shown, capped at 4 characters, so that secrets
    under 4 characters show nothing and an 8-character password shows 2.
    """
    shown = min(4, len(secret) // 4)
    return secret[:shown] + MASK
