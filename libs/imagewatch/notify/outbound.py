"""A rendered message ready to post: body and headers, never the URL.

The URL is a secret held by the channel configuration; the sender joins it to
the request at send time, so an ``OutboundRequest`` can be stored in the
outbox, logged or shown through the API without leaking it. ``OutboxEntry``
(a request named for its channel) is what ``store.outbox`` queues; it lives
here, below both ``notify.compose`` and ``store.outbox``, so neither imports
the other.
"""

from __future__ import annotations

import msgspec


class OutboundRequest(msgspec.Struct, kw_only=True, frozen=True):
    """One HTTP POST to make: JSON ``body`` bytes, ``headers``, and the key that identifies it.

    ``idempotency_key`` is stable for the same image event and channel message,
    so a dispatcher can store it as the outbox row key and a receiver can drop
    a second delivery after a crash between send and record.
    """

    body: bytes
    headers: dict[str, str] = {}
    idempotency_key: str = ""
    summary: str = ""


class OutboxEntry(msgspec.Struct, kw_only=True, frozen=True):
    """One rendered request for one configured channel (named, never its URL)."""

    channel: str
    kind: str
    part: int = 0
    request: OutboundRequest
