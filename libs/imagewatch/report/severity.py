"""Severity helpers shared by the formats and filters: order, counts, scores, levels."""

from __future__ import annotations

from collections.abc import Iterable

from imagewatch.models import SEVERITY_ORDER

# Highest first, the order totals and tables are printed in.
SEVERITIES: tuple[str, ...] = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__, reverse=True))

# Stand-in CVSS-like scores when an advisory carries none (the values Trivy uses).
DEFAULT_SCORES: dict[str, float] = {
    "critical": 9.5, "high": 8.0, "medium": 5.5, "low": 2.0, "info": 0.0, "unknown": 0.0,
}


def rank(severity: str) -> int:
    """Numeric rank of ``severity`` (critical 5 ... unknown 0); unknown names rank 0."""
    return SEVERITY_ORDER.get(severity, 0)


def score_of(severity: str, score: float | None) -> float:
    """The advisory's score when it has one, else the stand-in for its severity."""
    return score if score is not None else DEFAULT_SCORES.get(severity, 0.0)


def counts(severities: Iterable[str]) -> dict[str, int]:
    """Count per severity, every severity present (zero when none), highest first."""
    out = dict.fromkeys(SEVERITIES, 0)
    for s in severities:
        out[s if s in out else "unknown"] += 1
    return out


def parse_severities(text: str | Iterable[str]) -> frozenset[str]:
    """``"HIGH,critical"`` (or a list of names) as a set of severity names; raises ``ValueError``."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = {s.strip().lower() for s in items if s.strip()}
    bad = sorted(out - set(SEVERITY_ORDER))
    if bad:
        raise ValueError(f"report: unknown severity {', '.join(bad)} (use {','.join(SEVERITIES)})")
    return frozenset(out)
