"""CVSS ratings of CVEs from CVE JSON 5 records (cvelistV5, CISA vulnrichment) and NVD API 2.0 JSON.

A CVE record carries metrics in its CNA container and in each ADP container
(CISA's "vulnrichment" adds CVSS where the CNA gave none). NVD's API 2.0
answers hold ``cvssMetricV40/V31/V30/V2`` lists, NVD's own (``Primary``) first.
Each provider gives at most one rating: its newest CVSS version (v4.0, then
v3.1/3.0, then v2), else a qualitative rating it published (Red Hat's
"Important"). Vectors are scored with ``advisories.severity.cvss_score``; a
vector that does not parse falls back to the published base score.
"""

from __future__ import annotations

from typing import Any

import msgspec

from imagewatch.advisories.severity import _WORDS, cvss_score

_CVE5_KEYS = (("cvssV4_0", "CVSS_V4"), ("cvssV3_1", "CVSS_V3"), ("cvssV3_0", "CVSS_V3"), ("cvssV2_0", "CVSS_V2"))
_NVD_KEYS = (("cvssMetricV40", "CVSS_V4"), ("cvssMetricV31", "CVSS_V3"), ("cvssMetricV30", "CVSS_V3"),
             ("cvssMetricV2", "CVSS_V2"))


class CveRating(msgspec.Struct, kw_only=True, frozen=True):
    """One provider's rating of one CVE: ``provider`` is ``cna:<short name>``, ``adp:<short name>`` or ``nvd``.

    ``score`` is None for a qualitative rating; ``vector`` empty then.
    """

    vuln_id: str
    provider: str
    rating: str
    score: float | None = None
    vector: str = ""


class CveRecordFile(msgspec.Struct, kw_only=True):
    """The ratings read from one CVE JSON 5 record or NVD answer; ``ids`` every CVE it speaks for.

    A CVE in ``ids`` without a rating has none from that file, so an earlier
    rating from the same provider is dropped on import.
    """

    kind: str  # "cve" or "nvd"
    ids: list[str]
    ratings: list[CveRating]
    updated: str = ""  # the record's dateUpdated / lastModified: an older record never replaces a newer one


def is_cve_record(doc: Any) -> bool:
    """Whether ``doc`` is a CVE JSON 5 record (``dataType: CVE_RECORD``)."""
    return isinstance(doc, dict) and doc.get("dataType") == "CVE_RECORD" and isinstance(doc.get("cveMetadata"), dict)


def is_nvd(doc: Any) -> bool:
    """Whether ``doc`` is an NVD API 2.0 CVE answer (``format: NVD_CVE``, ``vulnerabilities`` list)."""
    return isinstance(doc, dict) and doc.get("format") == "NVD_CVE" and isinstance(doc.get("vulnerabilities"), list)


def _score(kind: str, vector: Any, base: Any, severity: Any) -> tuple[float | None, str, str] | None:
    if isinstance(vector, str) and vector:
        try:
            score, rating = cvss_score(kind, vector)
            return score, rating, vector
        except ValueError:
            pass
    if isinstance(base, (int, float)):
        score = float(base)
        word = severity.lower() if isinstance(severity, str) else ""
        if word not in _WORDS:
            word = ("critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4
                    else "low" if score > 0 else "none")
        return score, _WORDS.get(word, "unknown"), ""
    return None


def _from_cve5_metrics(cve: str, provider: str, metrics: Any) -> CveRating | None:
    if not isinstance(metrics, list):
        return None
    metrics = [m for m in metrics if isinstance(m, dict)]
    for key, kind in _CVE5_KEYS:
        for m in metrics:
            data = m.get(key)
            if isinstance(data, dict):
                found = _score(kind, data.get("vectorString"), data.get("baseScore"), data.get("baseSeverity"))
                if found is not None and found[1] != "unknown":
                    return CveRating(vuln_id=cve, provider=provider, score=found[0], rating=found[1],
                                     vector=found[2])
    for m in metrics:
        content = (m.get("other") or {}).get("content") if isinstance(m.get("other"), dict) else None
        value = content.get("value") if isinstance(content, dict) else None
        if isinstance(value, str) and value.strip().lower() in _WORDS:
            return CveRating(vuln_id=cve, provider=provider, rating=_WORDS[value.strip().lower()])
    return None


def _short_name(container: dict[str, Any], fallback: str) -> str:
    meta = container.get("providerMetadata")
    name = meta.get("shortName") if isinstance(meta, dict) else None
    return str(name) if name else fallback


def cve_record_ratings(doc: dict[str, Any]) -> CveRecordFile:
    """The CNA and ADP ratings of one CVE JSON 5 record (none for a rejected record)."""
    meta = doc.get("cveMetadata") or {}
    cve = str(meta.get("cveId") or "")
    if not cve:
        return CveRecordFile(kind="cve", ids=[], ratings=[])
    updated = str(meta.get("dateUpdated") or meta.get("datePublished") or "")
    if meta.get("state") == "REJECTED":
        return CveRecordFile(kind="cve", ids=[cve], ratings=[], updated=updated)
    containers = doc.get("containers") or {}
    ratings = []
    cna = containers.get("cna")
    if isinstance(cna, dict):
        found = _from_cve5_metrics(cve, f"cna:{_short_name(cna, str(meta.get('assignerShortName') or 'cna'))}",
                                   cna.get("metrics"))
        if found:
            ratings.append(found)
    for adp in containers.get("adp") or ():
        if isinstance(adp, dict):
            found = _from_cve5_metrics(cve, f"adp:{_short_name(adp, 'adp')}", adp.get("metrics"))
            if found:
                ratings.append(found)
    return CveRecordFile(kind="cve", ids=[cve], ratings=ratings, updated=updated)


def _nvd_rating(cve: str, metrics: dict[str, Any]) -> CveRating | None:
    for key, kind in _NVD_KEYS:
        entries = [e for e in metrics.get(key) or () if isinstance(e, dict)]
        entries.sort(key=lambda e: e.get("type") != "Primary")
        for e in entries:
            data = e.get("cvssData") or {}
            found = _score(kind, data.get("vectorString"), data.get("baseScore"),
                           data.get("baseSeverity") or e.get("baseSeverity"))
            if found is not None and found[1] != "unknown":
                return CveRating(vuln_id=cve, provider="nvd", score=found[0], rating=found[1], vector=found[2])
    return None


def nvd_ratings(doc: dict[str, Any]) -> list[CveRecordFile]:
    """NVD's rating of every CVE in one API 2.0 answer, one item per CVE (rejected CVEs have none)."""
    out = []
    for item in doc.get("vulnerabilities") or ():
        cve = item.get("cve") if isinstance(item, dict) else None
        if not isinstance(cve, dict) or not cve.get("id"):
            continue
        cve_id, ratings = str(cve["id"]), []
        if str(cve.get("vulnStatus", "")).lower() != "rejected":
            found = _nvd_rating(cve_id, cve.get("metrics") or {})
            ratings = [found] if found else []
        out.append(CveRecordFile(kind="nvd", ids=[cve_id], ratings=ratings,
                                 updated=str(cve.get("lastModified") or "")))
    return out


def ratings_of(doc: Any) -> list[CveRecordFile] | None:
    """The ratings of a CVE JSON 5 record or NVD answer (one item per CVE), None for any other document."""
    if is_cve_record(doc):
        return [cve_record_ratings(doc)]
    if is_nvd(doc):
        return nvd_ratings(doc)
    return None

