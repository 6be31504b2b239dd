"""HMAC-SHA256 signatures for the generic webhook, and their verification.

The header is ``X-Imagewatch-Signature: t=<unix seconds>,v1=<hex digest>``
where the digest is HMAC-SHA256, keyed with the channel's secret, over the
bytes ``f"{t}."`` followed by the exact request body. A receiver recomputes it,
compares in constant time, rejects a ``t`` too far from its clock (replays),
and drops a repeated ``X-Imagewatch-Idempotency-Key``. See docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from imagewatch.errors import ImagewatchError

SIGNATURE_HEADER = "X-Imagewatch-Signature"
IDEMPOTENCY_HEADER = "X-Imagewatch-Idempotency-Key"
DEFAULT_TOLERANCE = 300


class SignatureError(ImagewatchError, ValueError):
    """A signature header is missing, malformed, stale or does not match."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Imagewatch-Signature`` header value for ``body``, signed now by default."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> int:
    """Check a signature header; return its timestamp or raise ``SignatureError``.

    Accepts any of several ``v1=`` values (a sender rotating secrets may send two).
    """
    t_value, digests = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t_value = value
        elif key == "v1":
            digests.append(value)
    if t_value is None or not t_value.isdigit() or not digests:
        raise SignatureError("notify: malformed signature header")
    t = int(t_value)
    current = time.time() if now is None else now
    if abs(current - t) > tolerance:
        raise SignatureError("notify: signature timestamp outside tolerance (possible replay)")
    expected = signature(secret, t, body)
    # bytes, not str: compare_digest raises TypeError on non-ASCII str, and a header is attacker input
    if not any(hmac.compare_digest(expected.encode(), d.encode("utf-8", "surrogateescape")) for d in digests):
        raise SignatureError("notify: signature does not match")
    return t
