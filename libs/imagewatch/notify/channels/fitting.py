"""Fitting an alert into a service's limits: show the most severe items, summarise the rest.

Renderers build their payload for "the first ``n`` items" and ``fit`` finds the
largest ``n`` whose payload passes the service's limit check. Items are taken
most severe first across kinds (secrets before vulnerabilities before
misconfigurations at equal severity), so a leaked key is never crowded out
by 500 low findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from imagewatch.models import SEVERITY_ORDER
from imagewatch.notify.alert import Alert, AlertFinding, AlertMisconfiguration, AlertSecret

T = TypeVar("T")
ELLIPSIS = "…"


class Shown(NamedTuple):
    """The items a message shows, and how many of each kind it leaves out."""

    findings: list[AlertFinding]
    secrets: list[AlertSecret]
    misconfigurations: list[AlertMisconfiguration]
    omitted_findings: int
    omitted_secrets: int
    omitted_misconfigurations: int

    @property
    def omitted(self) -> int:
        return self.omitted_findings + self.omitted_secrets + self.omitted_misconfigurations


def total_items(alert: Alert) -> int:
    """How many items the alert holds, all kinds together."""
    return len(alert.findings) + len(alert.secrets) + len(alert.misconfigurations)


def take(alert: Alert, n: int) -> Shown:
    """The ``n`` most severe items of the alert, grouped back by kind."""
    ranked = [
        (-SEVERITY_ORDER[item.severity], kind, pos)
        for kind, items in enumerate((alert.secrets, alert.findings, alert.misconfigurations))
        for pos, item in enumerate(items)
    ]
    ranked.sort()
    chosen = [[], [], []]
    for _, kind, pos in ranked[: max(n, 0)]:
        chosen[kind].append(pos)
    secrets = [alert.secrets[i] for i in sorted(chosen[0])]
    findings = [alert.findings[i] for i in sorted(chosen[1])]
    misconfigs = [alert.misconfigurations[i] for i in sorted(chosen[2])]
    return Shown(
        findings, secrets, misconfigs,
        len(alert.findings) - len(findings),
        len(alert.secrets) - len(secrets),
        len(alert.misconfigurations) - len(misconfigs),
    )


def more_text(shown: Shown) -> str:
    """``… and 480 more findings, 3 more secrets`` or ``""`` when nothing is left out."""
    parts = []
    for n, word in (
        (shown.omitted_findings, "finding"),
        (shown.omitted_secrets, "secret"),
        (shown.omitted_misconfigurations, "misconfiguration"),
    ):
        if n:
            parts.append(f"{n} more {word}{'s' if n != 1 else ''}")
    return f"{ELLIPSIS} and {', '.join(parts)} (full report in the API)" if parts else ""


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, ending in an ellipsis when cut."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: max(limit - 3, 0)].decode(errors="ignore") + ELLIPSIS


def chunk_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines with newlines into chunks of at most ``limit`` characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def fit(build: Callable[[int], T], fits: Callable[[T], bool], upper: int) -> T:
    """``build(n)`` for the largest ``n`` in ``[0, upper]`` whose result ``fits``.

    ``build(0)`` must always fit (renderers truncate every free text field), so
    the search never fails; it assumes a larger ``n`` never makes a payload smaller.
    """
    whole = build(upper)
    if fits(whole):
        return whole
    best = build(0)
    lo, hi = 1, upper - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = build(mid)
        if fits(candidate):
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def fit_alert(alert: Alert, build: Callable[[Alert, Shown], T], fits: Callable[[T], bool]) -> T:
    """``build(alert, shown)`` showing as many of the alert's items as still ``fits``."""
    return fit(lambda n: build(alert, take(alert, n)), fits, total_items(alert))
