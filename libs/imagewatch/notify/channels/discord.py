"""Discord webhook: a short ``content`` line and up to four embeds.

Documented limits: ``content`` at most 2000 characters; at most 10 embeds; an
embed's title at most 256 characters, description 4096, at most 25 fields
with names of 256 and values of 1024, footer text 2048, author name 256; and
6000 characters in total across the title, description, field names and
values, footer text and author name of all embeds of a message.
``allowed_mentions`` is empty so text from an image can never ping anyone.
"""

from __future__ import annotations

from typing import ClassVar

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.base import json_message
from imagewatch.notify.channels.fitting import Shown, fit_alert, more_text, truncate

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_TOTAL = 6000


def embed_chars(embed: dict) -> int:
    """Characters of one embed that count towards Discord's 6000 total."""
    n = len(embed.get("title", "")) + len(embed.get("description", ""))
    n += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return n + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", ()))


def _list_embed(heading: str, lines: list[str], color: int) -> list[dict]:
    if not lines:
        return []
    return [{"title": heading, "description": "\n".join(lines), "color": color}]


def build_payload(alert: Alert, shown: Shown) -> dict:
    """The webhook payload showing ``shown`` of ``alert``."""
    img = alert.image
    color = w.severity_color(alert)
    ref = (f"{img.registry}/" if img.registry else "") + img.name
    about = [
        f"**Image** `{ref.replace('`', '')}` `{img.short_digest}`" + (f" · {img.platform}" if img.platform else ""),
        f"**Why** {w.reason_text(alert)}",
        f"**New** {w.new_text(alert)}",
    ]
    fields = [{"name": sev.title(), "value": str(n), "inline": True} for sev, n in alert.counts.items()]
    if alert.secrets:
        fields.append({"name": w.secrets_heading(alert), "value": str(len(alert.secrets)), "inline": True})
    if alert.misconfigurations:
        fields.append({"name": "Misconfigurations", "value": str(len(alert.misconfigurations)), "inline": True})
    head: dict = {
        "title": truncate(w.title(alert), MAX_TITLE),
        "description": truncate("\n".join(about), 1000),
        "color": color,
        "fields": fields[:MAX_FIELDS],
    }
    if alert.api_url:
        head["url"] = alert.api_url
    embeds = [head]
    embeds += _list_embed(w.secrets_heading(alert), [w.secret_line(s, w.MARKDOWN) for s in shown.secrets], color)
    embeds += _list_embed("Vulnerabilities", [w.finding_line(f, w.MARKDOWN) for f in shown.findings], color)
    embeds += _list_embed(
        "Misconfigurations", [w.misconfiguration_line(c, w.MARKDOWN) for c in shown.misconfigurations], color
    )
    footer = more_text(shown) or "imagewatch"
    embeds[-1]["footer"] = {"text": truncate(footer, MAX_FOOTER)}
    return {
        "content": truncate(w.fallback_text(alert), MAX_CONTENT),
        "embeds": embeds[:MAX_EMBEDS],
        "allowed_mentions": {"parse": []},
    }


def fits(payload: dict) -> bool:
    """Whether the payload is within Discord's embed limits."""
    embeds = payload["embeds"]
    return (
        sum(embed_chars(e) for e in embeds) <= MAX_TOTAL
        and all(len(e.get("description", "")) <= MAX_DESCRIPTION for e in embeds)
    )


class DiscordChannel:
    """Discord channel webhook (``https://discord.com/api/webhooks/<id>/<token>``)."""

    kind: ClassVar[str] = "discord"

    def __init__(self, name: str = "discord") -> None:
        self.name = name

    @classmethod
    def from_config(cls, config: ChannelConfig) -> DiscordChannel:
        """The channel for one configured Discord webhook."""
        return cls(config.name)

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One message with embeds within 6000 characters; the most severe items first."""
        return json_message(alert, fit_alert(alert, build_payload, fits))
