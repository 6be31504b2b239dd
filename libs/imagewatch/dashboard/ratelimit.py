"""Failed logins per client address, as an in-memory token bucket (one per api process)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class FailureLimiter:
    """A token bucket per client: ``burst`` failures at once, refilled at ``per_minute`` a minute.

    A client whose bucket is empty is refused every attempt (a right guess
    included, or the limit would not slow guessing) until a token is back.
    At most ``max_clients`` buckets are kept: past that the fullest go first
    (the most drained, the likeliest guessers, stay), so a flood of
    addresses costs bounded memory.
    ``per_minute`` 0 turns the limit off.
    """

    def __init__(self, per_minute: int, burst: int | None = None, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(per_minute, 0) / 60.0
        self.burst = float(per_minute if burst is None else burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def _tokens(self, client: str, now: float) -> float:
        tokens, stamp = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def retry_after(self, client: str) -> int:
        """0 when ``client`` may try now, else the whole seconds until its next attempt."""
        if self.rate <= 0 or client not in self._buckets:
            return 0
        tokens = self._tokens(client, self.clock())
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def failed(self, client: str) -> None:
        """Take one token from ``client``'s bucket for a failed attempt."""
        if self.rate <= 0:
            return
        now = self.clock()
        self._buckets[client] = (max(self._tokens(client, now) - 1, 0.0), now)
        if len(self._buckets) > self.max_clients:
            self._evict(now)

    def _evict(self, now: float) -> None:
        # the fullest buckets first (least harm in forgetting them), down to 90 %: amortised over inserts
        keep = int(self.max_clients * 0.9)
        by_tokens = sorted(self._buckets, key=lambda c: self._tokens(c, now), reverse=True)
        for client in by_tokens[:len(self._buckets) - keep]:
            del self._buckets[client]

    def __len__(self) -> int:
        return len(self._buckets)
