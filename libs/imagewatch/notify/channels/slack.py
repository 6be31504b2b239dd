"""Slack incoming webhook, Block Kit message with a ``text`` fallback.

Documented limits: at most 50 blocks per message; a header's plain text at
most 150 characters; a section's text at most 3000 characters; at most 10
section fields of 2000 characters; at most 10 context elements. Slack also
rejects messages whose blocks hold much more than about 13,000 characters in
total (``msg_blocks_too_long``, reported in slackapi/bolt-js#2509), so the text
across all blocks is kept under ``MAX_TOTAL_TEXT``. mrkdwn needs ``&``, ``<``
and ``>`` escaped.
"""

from __future__ import annotations

from typing import ClassVar

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.base import json_message
from imagewatch.notify.channels.fitting import Shown, chunk_lines, fit_alert, more_text, truncate

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_TOTAL_TEXT = 12000
MAX_FALLBACK = 3000


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MRKDWN = w.Markup(escape=escape, bold=lambda s: f"*{s}*", code=lambda s: f"`{s.replace('`', '')}`")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION)}}


def _list_blocks(heading: str, lines: list[str]) -> list[dict]:
    if not lines:
        return []
    return [_section(chunk) for chunk in chunk_lines([f"*{heading}*", *lines], MAX_SECTION)]


def build_payload(alert: Alert, shown: Shown) -> dict:
    """The Block Kit payload showing ``shown`` of ``alert``."""
    img = alert.image
    about = [
        f"*Image* `{escape(img.registry + '/' if img.registry else '')}{escape(img.name)}` "
        f"`{escape(img.short_digest)}`" + (f" · {escape(img.platform)}" if img.platform else ""),
        f"*Why* {escape(w.reason_text(alert))}",
        f"*New* {w.new_text(alert)}",
    ]
    fields = [{"type": "mrkdwn", "text": f"*{sev.title()}*\n{n}"} for sev, n in alert.counts.items()]
    if alert.secrets:
        fields.append({"type": "mrkdwn", "text": f"*{w.secrets_heading(alert)}*\n{len(alert.secrets)}"})
    if alert.misconfigurations:
        fields.append({"type": "mrkdwn", "text": f"*Misconfigurations*\n{len(alert.misconfigurations)}"})
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(w.title(alert), MAX_HEADER), "emoji": True}},
        _section("\n".join(about)),
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})
    blocks.append({"type": "divider"})
    blocks += _list_blocks(w.secrets_heading(alert), [w.secret_line(s, MRKDWN) for s in shown.secrets])
    blocks += _list_blocks("Vulnerabilities", [w.finding_line(f, MRKDWN) for f in shown.findings])
    blocks += _list_blocks(
        "Misconfigurations", [w.misconfiguration_line(c, MRKDWN) for c in shown.misconfigurations]
    )
    footer = [escape(more_text(shown))] if shown.omitted else []
    if alert.api_url:
        footer.append(f"<{alert.api_url}|Full report>")
    if footer:
        element = {"type": "mrkdwn", "text": truncate(" · ".join(footer), MAX_SECTION)}
        blocks.append({"type": "context", "elements": [element]})
    return {"text": truncate(escape(w.fallback_text(alert)), MAX_FALLBACK), "blocks": blocks}


def _text_length(blocks: list[dict]) -> int:
    total = 0
    for b in blocks:
        if "text" in b:
            total += len(b["text"]["text"])
        total += sum(len(f["text"]) for f in b.get("fields", ()))
        total += sum(len(e["text"]) for e in b.get("elements", ()))
    return total


def fits(payload: dict) -> bool:
    """Whether the payload is within Slack's block count and text limits."""
    blocks = payload["blocks"]
    return len(blocks) <= MAX_BLOCKS and _text_length(blocks) <= MAX_TOTAL_TEXT


class SlackChannel:
    """Slack incoming webhook (``https://hooks.slack.com/services/...``)."""

    kind: ClassVar[str] = "slack"

    def __init__(self, name: str = "slack") -> None:
        self.name = name

    @classmethod
    def from_config(cls, config: ChannelConfig) -> SlackChannel:
        """The channel for one configured Slack webhook."""
        return cls(config.name)

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One Block Kit message; the most severe items first, the rest summarised."""
        return json_message(alert, fit_alert(alert, build_payload, fits))
