"""Retry policy: which failures are retried, and how long to wait before the next try."""

from __future__ import annotations

import email.utils
import random
import time

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for retry number ``attempt`` (0-based)."""
    return random.uniform(base, min(cap, base * 2 ** attempt)) if base > 0 else 0.0


def retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), cap)
