"""The words every channel uses, so that all services say the same thing.

Markup differs per service (Slack ``*bold*``, Markdown ``**bold**``, Google
Chat HTML), so line builders take a ``Markup`` with the service's escaping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from imagewatch.notify.alert import Alert, AlertFinding, AlertMisconfiguration, AlertSecret
from imagewatch.notify.channels.fitting import truncate

SEVERITY_EMOJI = {
    "critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪", "unknown": "⚪",
}
SEVERITY_COLOR = {
    "critical": 0xB60205, "high": 0xD93F0B, "medium": 0xFBCA04, "low": 0x1D76DB, "info": 0x8A8A8A,
    "unknown": 0x8A8A8A,
}
REASONS = {"push": "New image pushed", "advisory": "New advisory affects a known image"}
MAX_ADVISORIES_SHOWN = 5
MAX_LINE = 600


class Markup(NamedTuple):
    """A service's escaping and emphasis."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    code: Callable[[str], str]


def _no_backticks(text: str) -> str:
    return text.replace("`", "'")


MARKDOWN = Markup(
    escape=lambda s: s,
    bold=lambda s: f"**{s}**",
    code=lambda s: f"`{_no_backticks(s)}`",
)


def severity_color(alert: Alert) -> int:
    """The RGB colour of the alert's most severe item."""
    return SEVERITY_COLOR[alert.max_severity]


def counts_text(alert: Alert) -> str:
    """``2 critical, 5 high vulnerabilities, 1 secret`` (what the alert holds)."""
    parts = [f"{n} {sev}" for sev, n in alert.counts.items()]
    text = ", ".join(parts) + (" vulnerabilities" if parts else "")
    extra = []
    malware = sum(s.kind == "malware" for s in alert.secrets)
    if malware:
        extra.insert(0, f"{malware} malware")
    secrets = len(alert.secrets) - malware
    if secrets:
        extra.append(f"{secrets} secret{'s' if secrets != 1 else ''}")
    if alert.misconfigurations:
        n = len(alert.misconfigurations)
        extra.append(f"{n} misconfiguration{'s' if n != 1 else ''}")
    return ", ".join(p for p in [text, *extra] if p) or "nothing"


def title(alert: Alert) -> str:
    """``🔴 team-a/api:1.2: 2 critical, 5 high vulnerabilities`` (plain text, untruncated)."""
    partial = " (scan partial: parts of the image could not be read)" if alert.partial else ""
    uncovered = f" (not covered: {', '.join(alert.not_covered)}: no advisory data)" if alert.not_covered else ""
    fix = f" · fix first: {alert.fix}" if alert.fix and alert.findings else ""
    return f"{SEVERITY_EMOJI[alert.max_severity]} {alert.image.name}: {counts_text(alert)}{partial}{uncovered}{fix}"


def reason_text(alert: Alert) -> str:
    """Why the message is sent, with the first advisory ids for an advisory event."""
    text = REASONS[alert.reason]
    if alert.reason == "advisory" and alert.advisories:
        ids = alert.advisories[:MAX_ADVISORIES_SHOWN]
        more = len(alert.advisories) - len(ids)
        text += ": " + ", ".join(ids) + (f" and {more} more" if more else "")
    return text


def fallback_text(alert: Alert) -> str:
    """One plain line for notifications and clients that cannot show rich content."""
    return truncate(f"imagewatch: {title(alert)} ({reason_text(alert)})", 1000)


def new_text(alert: Alert) -> str:
    """``3 new since the previous image of this tag``."""
    return f"{alert.new_count} new since the previous image of this tag"


def finding_id(f: AlertFinding) -> str:
    """``GHSA-xxxx (CVE-2024-1234)``, or just the id."""
    return f"{f.id} ({f.cve})" if f.cve else f.id


def versions_text(f: AlertFinding) -> str:
    """``1.0.1 → 1.0.2`` or ``1.0.1 → no fix yet``."""
    return f"{f.installed} → {f.fixed or 'no fix yet'}"


def finding_line(f: AlertFinding, m: Markup) -> str:
    """One line for one vulnerability, most telling part first."""
    new = " · new" if f.new else ""
    kev = (" · " + m.bold("known exploited") + (" (ransomware)" if f.kev_ransomware else "")) if f.kev else ""
    epss = f" · EPSS {f.epss:.2f}" if f.epss is not None and f.epss >= 0.01 else ""
    return truncate(
        f"{SEVERITY_EMOJI[f.severity]} {m.bold(m.escape(finding_id(f)))} {m.code(m.escape(f.package))} "
        f"{m.escape(versions_text(f))} · {f.severity}{kev}{epss}{new}",
        MAX_LINE,
    )


def layer_text(s: AlertSecret) -> str:
    """``layer 3, removed in layer 5`` or ``""`` without layer information."""
    if s.layer_index is None:
        return ""
    text = f"layer {s.layer_index}"
    if s.removed_in is not None:
        text += f", removed in layer {s.removed_in}"
    return text


def location(path: str, line: int) -> str:
    """``path:line`` or ``path``."""
    return f"{path}:{line}" if line else path


def secrets_heading(alert: Alert) -> str:
    """``Secrets``, or ``Malware and secrets`` when malware items are among them."""
    kinds = {s.kind for s in alert.secrets}
    if "malware" not in kinds:
        return "Secrets"
    return "Malware and secrets" if "secret" in kinds else "Malware"


def secret_line(s: AlertSecret, m: Markup) -> str:
    """One line for one secret (rule, where, which layer, redacted preview) or one malware item."""
    label = f"MALWARE {s.rule_id}: " if s.kind == "malware" else ""
    parts = [f"{SEVERITY_EMOJI[s.severity]} {m.bold(m.escape(label + (s.title or s.rule_id)))}"]
    parts.append(m.code(m.escape(location(s.path, s.line))))
    if layer_text(s):
        parts.append(layer_text(s))
    if s.preview:
        parts.append(f"starts {m.code(m.escape(s.preview))}")
    return truncate(" · ".join(parts), MAX_LINE)


def misconfiguration_line(c: AlertMisconfiguration, m: Markup) -> str:
    """One line for one misconfiguration."""
    where = m.code(m.escape(location(c.path, c.line)))
    text = f"{SEVERITY_EMOJI[c.severity]} {m.bold(m.escape(c.title or c.rule_id))} {where}"
    if c.remediation:
        text += f" · {m.escape(truncate(c.remediation, 200))}"
    return truncate(text, MAX_LINE)
