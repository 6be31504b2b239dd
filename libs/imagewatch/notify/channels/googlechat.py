"""Google Chat incoming webhook: a ``text`` fallback and one ``cardsV2`` card.

Documented limits: a message, text and cards together, is at most 32,000
bytes; a card holds at most 100 widgets (Chat ignores those beyond). Card
text takes a small HTML subset (``<b>``, ``<i>``, ``<font>``, ``<a>``, ``<br>``),
so everything taken from an image is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import ClassVar

import msgspec

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.base import json_message
from imagewatch.notify.channels.fitting import Shown, fit_alert, more_text, truncate

MAX_BYTES = 30_000
MAX_WIDGETS = 100
MAX_TEXT = 1000
UNCOLLAPSED = 5

_ENCODER = msgspec.json.Encoder()


def escape(text: str) -> str:
    """Text safe inside Google Chat's card HTML subset."""
    return html.escape(text, quote=False)


HTML = w.Markup(escape=escape, bold=lambda s: f"<b>{s}</b>", code=lambda s: s)


def _fact(label: str, text: str) -> dict:
    text = truncate(escape(text), MAX_TEXT)
    return {"decoratedText": {"topLabel": truncate(label, 100), "text": text, "wrapText": True}}


def _line(text: str) -> dict:
    return {"textParagraph": {"text": text}}


def _list_section(heading: str, lines: list[str]) -> list[dict]:
    if not lines:
        return []
    section: dict = {"header": heading, "widgets": [_line(text) for text in lines]}
    if len(lines) > UNCOLLAPSED:
        section |= {"collapsible": True, "uncollapsibleWidgetsCount": UNCOLLAPSED}
    return [section]


def build_payload(alert: Alert, shown: Shown) -> dict:
    """The webhook message showing ``shown`` of ``alert``."""
    img = alert.image
    facts = [
        _fact("Image", (f"{img.registry}/" if img.registry else "") + img.name),
        _fact("Digest", img.short_digest),
        *([_fact("Platform", img.platform)] if img.platform else []),
        _fact("Why", w.reason_text(alert)),
        _fact("Found", w.counts_text(alert)),
        _fact("New", w.new_text(alert)),
    ]
    sections = [{"widgets": facts}]
    sections += _list_section(w.secrets_heading(alert), [w.secret_line(s, HTML) for s in shown.secrets])
    sections += _list_section("Vulnerabilities", [w.finding_line(f, HTML) for f in shown.findings])
    sections += _list_section(
        "Misconfigurations", [w.misconfiguration_line(c, HTML) for c in shown.misconfigurations]
    )
    closing: list[dict] = []
    if shown.omitted:
        closing.append(_line(f"<i>{escape(more_text(shown))}</i>"))
    if alert.api_url:
        button = {"text": "Full report", "onClick": {"openLink": {"url": alert.api_url}}}
        closing.append({"buttonList": {"buttons": [button]}})
    if closing:
        sections.append({"widgets": closing})
    card = {
        "header": {"title": truncate(w.title(alert), 200), "subtitle": truncate(w.reason_text(alert), 200)},
        "sections": sections,
    }
    return {
        "text": truncate(w.fallback_text(alert), 1000),
        "cardsV2": [{"cardId": f"imagewatch-{alert.idempotency_key[:16]}", "card": card}],
    }


def _widgets(payload: dict) -> int:
    return sum(len(s["widgets"]) for c in payload["cardsV2"] for s in c["card"]["sections"])


class GoogleChatChannel:
    """Google Chat space webhook (``https://chat.googleapis.com/v1/spaces/.../messages?key=...``)."""

    kind: ClassVar[str] = "googlechat"

    def __init__(self, name: str = "googlechat") -> None:
        self.name = name

    @classmethod
    def from_config(cls, config: ChannelConfig) -> GoogleChatChannel:
        """The channel for one configured Google Chat webhook."""
        return cls(config.name)

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One card message within 32,000 bytes and 100 widgets; the most severe items first."""
        payload = fit_alert(alert, build_payload,
                            lambda p: _widgets(p) <= MAX_WIDGETS and len(_ENCODER.encode(p)) <= MAX_BYTES)
        return json_message(alert, payload, "application/json; charset=UTF-8")
