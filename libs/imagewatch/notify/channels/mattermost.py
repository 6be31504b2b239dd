"""Mattermost incoming webhook: Markdown ``text`` plus one small attachment.

Documented limit: a post's message is at most 16383 characters (Mattermost
5.0 and later; older servers cut at 4000). Attachments are counted apart and
older servers capped them at 7900 characters, so the attachment only carries
the colour bar and the counts.
"""

from __future__ import annotations

from typing import ClassVar

from imagewatch.notify.alert import Alert
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.channels import wording as w
from imagewatch.notify.channels.base import json_message
from imagewatch.notify.channels.fitting import Shown, fit_alert, more_text, truncate

MAX_TEXT = 16383
MAX_TEXT_BUDGET = 16000
MAX_CELL = 300


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return truncate(text.replace("\n", " ").replace("|", "\\|"), MAX_CELL)


def _code(text: str) -> str:
    return f"`{cell(text).replace('`', '')}`"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + ":--|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def build_text(alert: Alert, shown: Shown) -> str:
    """The Markdown message showing ``shown`` of ``alert``."""
    img = alert.image
    ref = (f"{img.registry}/" if img.registry else "") + img.name
    lines = [
        f"#### {cell(w.title(alert))}",
        f"**Image** {_code(ref)} {_code(img.short_digest)}" + (f" · {cell(img.platform)}" if img.platform else ""),
        f"**Why** {cell(w.reason_text(alert))} · **New** {w.new_text(alert)}",
    ]
    if shown.secrets:
        lines += ["", f"**{w.secrets_heading(alert)}**"]
        lines += _table(
            ["Severity", "Rule", "Location", "Layer", "Preview"],
            [[s.severity, cell(("MALWARE " + s.rule_id + ": " if s.kind == "malware" else "") + (s.title or s.rule_id)), _code(w.location(s.path, s.line)),
              cell(w.layer_text(s)), _code(s.preview) if s.preview else ""] for s in shown.secrets],
        )
    if shown.findings:
        lines += ["", "**Vulnerabilities**"]
        lines += _table(
            ["Severity", "Vulnerability", "Package", "Installed → fixed", "New"],
            [[f.severity, cell(w.finding_id(f)), _code(f.package), cell(w.versions_text(f)), "new" if f.new else ""]
             for f in shown.findings],
        )
    if shown.misconfigurations:
        lines += ["", "**Misconfigurations**"]
        lines += _table(
            ["Severity", "Rule", "Location", "Remediation"],
            [[c.severity, cell(c.title or c.rule_id), _code(w.location(c.path, c.line)), cell(c.remediation)]
             for c in shown.misconfigurations],
        )
    if shown.omitted:
        lines += ["", f"_{more_text(shown)}_"]
    if alert.api_url:
        lines += ["", f"[Full report]({alert.api_url})"]
    return "\n".join(lines)


def build_payload(alert: Alert, shown: Shown) -> dict:
    """The webhook payload: Markdown text and one attachment with the counts."""
    fields = [{"short": True, "title": sev.title(), "value": str(n)} for sev, n in alert.counts.items()]
    if alert.secrets:
        fields.append({"short": True, "title": w.secrets_heading(alert), "value": str(len(alert.secrets))})
    if alert.misconfigurations:
        fields.append({"short": True, "title": "Misconfigurations", "value": str(len(alert.misconfigurations))})
    return {
        "text": truncate(build_text(alert, shown), MAX_TEXT),
        "attachments": [
            {"fallback": w.fallback_text(alert), "color": f"#{w.severity_color(alert):06x}", "fields": fields}
        ],
    }


class MattermostChannel:
    """Mattermost incoming webhook (``https://mattermost.example/hooks/...``)."""

    kind: ClassVar[str] = "mattermost"

    def __init__(self, name: str = "mattermost") -> None:
        self.name = name

    @classmethod
    def from_config(cls, config: ChannelConfig) -> MattermostChannel:
        """The channel for one configured Mattermost webhook."""
        return cls(config.name)

    def render(self, alert: Alert) -> list[OutboundRequest]:
        """One post within the message length limit; the most severe items first."""
        payload = fit_alert(alert, build_payload, lambda p: len(p["text"]) <= MAX_TEXT_BUDGET)
        return json_message(alert, payload)
