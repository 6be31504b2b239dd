"""Microsoft Teams, Workflows ("Post to a channel when a webhook request is received").

The Workflows webhook takes a message with one Adaptive Card attachment::

    {"type": "message", "attachments": [{"contentType":
        "application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard}}]}

Documented limit: a Teams message is at most about 28 KB, all of it counted;
above that the flow fails with "request entity too large". The card targets
Adaptive Cards 1.4, which Teams renders on every client. The payload is kept
under ``MAX_BYTES`` to leave room for what the flow adds.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.base import json_message
from imagewatch.notify.channels.fitting import Shown, fit_alert, more_text, truncate

MAX_BYTES = 26_000
CARD_VERSION = "1.4"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_TEXT = 2000

_ENCODER = msgspec.json.Encoder()
_SEVERE = {"critical", "high"}


def _text(text: str, **style: object) -> dict:
    return {"type": "TextBlock", "text": truncate(text, MAX_TEXT), "wrap": True, **style}


def _list(heading: str, lines: list[str]) -> list[dict]:
    if not lines:
        return []
    head = _text(heading, weight="Bolder", separator=True, spacing="Medium")
    return [head, *(_text(line, spacing="Small") for line in lines)]


def build_card(alert: Alert, shown: Shown) -> dict:
    """The Adaptive Card showing ``shown`` of ``alert``."""
    img = alert.image
    facts = [
        {"title": "Image", "value": (f"{img.registry}/" if img.registry else "") + img.name},
        {"title": "Digest", "value": img.short_digest},
    ]
    if img.platform:
        facts.append({"title": "Platform", "value": img.platform})
    facts += [
        {"title": "Why", "value": w.reason_text(alert)},
        {"title": "Found", "value": w.counts_text(alert)},
        {"title": "New", "value": w.new_text(alert)},
    ]
    for f in facts:
        f["value"] = truncate(f["value"], 500)
    body: list[dict] = [
        _text(w.title(alert), size="Large", weight="Bolder",
              color="Attention" if alert.max_severity in _SEVERE else "Default"),
        {"type": "FactSet", "facts": facts},
    ]
    body += _list(w.secrets_heading(alert), [w.secret_line(s, w.MARKDOWN) for s in shown.secrets])
    body += _list("Vulnerabilities", [w.finding_line(f, w.MARKDOWN) for f in shown.findings])
    body += _list("Misconfigurations", [w.misconfiguration_line(c, w.MARKDOWN) for c in shown.misconfigurations])
    if shown.omitted:
        body.append(_text(more_text(shown), isSubtle=True, separator=True))
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if alert.api_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Full report", "url": alert.api_url}]
    return {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


class TeamsChannel:
    """Microsoft Teams Workflows webhook with an Adaptive Card."""

    kind: ClassVar[str] = "teams"

    def __init__(self, name: str = "teams") -> None:
        self.name = name

    @classmethod
    def from_config(cls, config: ChannelConfig) -> TeamsChannel:
        """The channel for one configured Teams Workflows webhook."""
        return cls(config.name)

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One card message within ``MAX_BYTES``; the most severe items first."""
        body = fit_alert(alert, lambda a, shown: _ENCODER.encode(build_card(a, shown)),
                         lambda b: len(b) <= MAX_BYTES)
        return json_message(alert, body)
