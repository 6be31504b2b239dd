"""Severity borrowed from another record of the same vulnerability.

PYSEC, Alpine secdb, Debian DSA/DLA and many distro OSV records carry no
severity; a GHSA, Ubuntu, Go or RustSec record naming the same CVE often does.
Records name each other through ``id`` and ``aliases``, so the store keeps each
known severity under every id of its record (``severity_rows``) and a finding
rated ``unknown`` takes the best one found under any of its ids (``fill_unknown``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from imagewatch.models import SEVERITY_ORDER, Finding
from imagewatch.advisories.model import Advisory
from imagewatch.advisories.severity import severity_of

# (advisory id, score or None, rating) of one record's severity.
Known = tuple[str, float | None, str]


def severity_rows(advisory: Advisory) -> list[tuple[str, str, float | None, str]]:
    """(vulnerability id, advisory id, score, rating) under each id of a live advisory with a known severity.

    Empty for a withdrawn advisory or one whose severity is ``unknown``.
    """
    if advisory.withdrawn:
        return []
    score, rating = severity_of(advisory)
    if rating == "unknown":
        return []
    return [(vuln_id, advisory.id, score, rating) for vuln_id in advisory.ids]


def best_known(candidates: Iterable[Known]) -> Known | None:
    """The severity to borrow: the highest CVSS score when any record has one, else the highest rating.

    Ties go to the smallest advisory id, so the choice does not depend on order.
    """
    scored, rated = [], []
    for adv_id, score, rating in candidates:
        if rating == "unknown":
            continue
        (scored if score is not None else rated).append((adv_id, score, rating))
    if scored:
        return min(scored, key=lambda k: (-k[1], -SEVERITY_ORDER.get(k[2], 0), k[0]))
    if rated:
        return min(rated, key=lambda k: (-SEVERITY_ORDER.get(k[2], 0), k[0]))
    return None


def fill_unknown(findings: list[Finding], known: Mapping[str, list[Known]]) -> list[Finding]:
    """``findings`` with each ``unknown`` one given the best severity ``known`` holds under any of its ids.

    ``known`` maps a vulnerability id (CVE-…, GHSA-…) to the severities of the
    records naming it. Findings whose severity is known, or for which nothing
    is known, are returned unchanged.
    """
    if not known:
        return findings
    names = known.keys()
    out = []
    for f in findings:
        if f.severity == "unknown":
            ids = f.ids or [f.advisory_id]
            if not names.isdisjoint(ids):
                best = best_known(k for i in ids for k in known.get(i, ()))
                if best is not None:
                    f = msgspec.structs.replace(f, severity=best[2], score=best[1])
        out.append(f)
    return out
