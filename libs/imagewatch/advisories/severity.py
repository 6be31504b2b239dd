"""Severity of an advisory: CVSS vectors scored with ``cvss``, else the publisher's rating.

``cvss`` (maintained by Red Hat Product Security) implements the FIRST
specifications for v2, v3.0/3.1 and v4.0, so scores match NVD's calculators.
"""

from __future__ import annotations

from typing import Any

from cvss import CVSS2, CVSS3, CVSS4

from imagewatch.advisories.model import Advisory, Affected, SeverityScore
from imagewatch.ecosystems.catalog import OS_ECOSYSTEMS, base_ecosystem

# Publisher wordings (GHSA, Red Hat, Debian, Ubuntu ...) -> our ratings.
_WORDS = {
    "critical": "critical", "high": "high", "important": "high", "moderate": "medium",
    "medium": "medium", "low": "low", "negligible": "low", "unimportant": "low",
    "none": "info", "info": "info",
}
_CVSS_PREFERENCE = ("CVSS_V4", "CVSS_V3", "CVSS_V2")


def cvss_score(kind: str, vector: str) -> tuple[float, str]:
    """Base score and rating (critical/high/medium/low/info) of one CVSS vector.

    Raises ValueError (prefixed ``advisories.severity``) for a malformed vector.
    """
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            c4 = CVSS4(vector)
            score, word = float(c4.base_score), c4.severity
        elif kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            c3 = CVSS3(vector)
            score, word = float(c3.scores()[0]), c3.severities()[0]
        else:
            score = float(CVSS2(vector).scores()[0])
            word = "High" if score >= 7.0 else "Medium" if score >= 4.0 else "Low"
    except Exception as exc:  # the cvss library raises its own hierarchy
        raise ValueError(f"advisories.severity: bad {kind} vector {vector!r}: {exc}") from None
    return score, _WORDS.get(word.lower(), "unknown")


def _from_scores(scores: list[SeverityScore] | None) -> tuple[float | None, str] | None:
    if not scores:
        return None
    for kind in _CVSS_PREFERENCE:
        for s in scores:
            if s.type == kind:
                try:
                    return cvss_score(kind, s.score)
                except ValueError:
                    continue
    for s in scores:
        word = _WORDS.get(s.score.strip().lower())
        if word:
            return None, word
    return None


def _from_specific(specific: dict[str, Any] | None) -> tuple[float | None, str] | None:
    if not specific:
        return None
    for key in ("severity", "urgency"):  # urgency: the Debian security tracker's rating
        value = specific.get(key)
        if isinstance(value, str) and value.strip().rstrip("*").lower() in _WORDS:
            return None, _WORDS[value.strip().rstrip("*").lower()]
    cvss = specific.get("cvss")
    if isinstance(cvss, str) and cvss.startswith("CVSS:"):
        try:
            return cvss_score("", cvss)
        except ValueError:
            return None
    return None


def severity_of(advisory: Advisory, affected: Affected | None = None) -> tuple[float | None, str]:
    """(score or None, rating) for an advisory, optionally for one affected entry.

    Order: the entry's own severity, the record's CVSS vectors (v4, then v3, then
    v2), then ``database_specific.severity``/``cvss`` of the entry and the record
    (GHSA-style words, RustSec vectors). ``(None, "unknown")`` when nothing says.
    """
    candidates = []
    if affected is not None:
        candidates.append(_from_scores(affected.severity))
    candidates.append(_from_scores(advisory.severity))
    if affected is not None:
        candidates.append(_from_specific(affected.ecosystem_specific))
        candidates.append(_from_specific(affected.database_specific))
    candidates.append(_from_specific(advisory.database_specific))
    for found in candidates:
        if found is not None:
            return found
    return None, "unknown"


def source_kind(advisory: Advisory, affected: Affected | None = None) -> str:
    """``distro`` when the record is a distribution's own (its entry names an OS ecosystem), else ``advisory``.

    A distribution's rating of its package (Debian tracker urgency, Ubuntu
    priority, Red Hat severity) comes first in the precedence of
    ``imagewatch.advisories.borrowed``; an advisory's own CVSS second.
    """
    entries = [affected] if affected is not None else advisory.affected
    for entry in entries:
        if entry is not None and entry.package is not None \
                and base_ecosystem(entry.package.ecosystem) in OS_ECOSYSTEMS:
            return "distro"
    return "advisory"
