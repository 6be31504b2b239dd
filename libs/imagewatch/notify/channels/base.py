"""The chat channel Protocol.

A channel turns an ``Alert`` into the requests its service expects, within
the service's documented limits: when the alert is too large it shows the most
severe items and summarises the rest ("… and 480 more findings"), it never
fails. Rendering does no I/O; ``delivery.deliver`` posts the result.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import msgspec

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w

_ENCODER = msgspec.json.Encoder()


@runtime_checkable
class Channel(Protocol):
    """Renders alerts for one configured chat destination of one ``kind``."""

    kind: ClassVar[str]
    name: str

    @classmethod
    def from_config(cls, config: ChannelConfig) -> Channel:
        """The channel for one ``[[notifier.channels]]`` entry of this kind."""
        ...

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """The requests that carry ``alert`` (one per image event), within the service's limits."""
        ...


def json_message(alert: Alert, payload: object, content_type: str = "application/json") -> list[OutboundRequest]:
    """The one JSON request carrying ``alert``: ``payload`` as a document or already-encoded bytes."""
    body = payload if isinstance(payload, bytes) else _ENCODER.encode(payload)
    return [OutboundRequest(body=body, headers={"Content-Type": content_type},
                            idempotency_key=alert.idempotency_key, summary=w.fallback_text(alert))]
