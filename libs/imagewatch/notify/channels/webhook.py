"""Generic JSON webhook, signed with HMAC-SHA256 (see ``notify.signing``).

The body is the whole alert as JSON::

    {"type": "imagewatch.alert", "version": 1, "idempotency_key": "...",
     "alert": {...Alert...}, "omitted": {"findings": 0, "secrets": 0, "misconfigurations": 0}}

It is kept under ``max_bytes`` (1 MB by default) by dropping the least severe
items, counted in ``omitted``. Headers carry the signature and the
idempotency key. The signature made here is fresh at render time; a sender
retrying later re-signs (``delivery.deliver(..., signing_secret=...)``) so a
receiver's replay window does not reject a late retry.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.fitting import Shown, fit, take, total_items

MAX_BYTES = 1_000_000
EVENT_TYPE = "imagewatch.alert"
SCHEMA_VERSION = 1

_ENCODER = msgspec.json.Encoder()


def build_body(alert: Alert, shown: Shown) -> bytes:
    """The JSON body showing ``shown`` of ``alert`` (counts describe the whole alert)."""
    body = {
        "type": EVENT_TYPE,
        "version": SCHEMA_VERSION,
        "idempotency_key": alert.idempotency_key,
        "alert": msgspec.structs.replace(
            alert, findings=shown.findings, secrets=shown.secrets, misconfigurations=shown.misconfigurations
        ),
        "omitted": {
            "findings": shown.omitted_findings,
            "secrets": shown.omitted_secrets,
            "misconfigurations": shown.omitted_misconfigurations,
        },
    }
    return _ENCODER.encode(body)


class WebhookChannel:
    """Any HTTPS endpoint that takes a signed JSON POST."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, name: str = "webhook", *, secret: str, max_bytes: int = MAX_BYTES) -> None:
        self.name = name
        self._secret = secret
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"WebhookChannel(name={self.name!r})"

    @classmethod
    def from_config(cls, config: ChannelConfig) -> WebhookChannel:
        """The channel for one configured webhook; its ``secret`` signs every request."""
        if not config.secret:
            raise ValueError(f"notify: webhook channel {config.name!r} needs a signing secret")
        return cls(config.name, secret=config.secret.reveal())

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One signed JSON POST with the idempotency key header."""
        body = fit(lambda n: build_body(alert, take(alert, n)), lambda b: len(b) <= self.max_bytes, total_items(alert))
        return [
            OutboundRequest(
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Imagewatch-Event": EVENT_TYPE,
                    IDEMPOTENCY_HEADER: alert.idempotency_key,
                    SIGNATURE_HEADER: sign(self._secret, body),
                },
                idempotency_key=alert.idempotency_key,
                summary=w.fallback_text(alert),
            )
        ]
