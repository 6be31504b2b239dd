"""Severity borrowed from another record of the same vulnerability, by precedence.

A finding's severity comes, first found wins, from:

1. the distribution's own rating of its package (Debian tracker urgency,
   Ubuntu priority, Red Hat severity: the matched record, ``distro:``);
2. the matched advisory's own CVSS or rating (GHSA, OSV ``severity``: ``advisory:``);
3. another advisory naming the same vulnerability (``alias:``): PYSEC, Alpine
   secdb and DSA records carry none, the GHSA or Ubuntu record of the same CVE
   often does. The store keeps each known severity under every id of its
   record (``severity_rows``); ``fill_unknown`` takes the best one;
4. the CVE's own CVSS: the CNA's metrics in the CVE JSON 5 record, then an
   ADP's (CISA "vulnrichment"), then NVD's (``fill_from_cve``).

Each step records itself in ``Finding.severity_source``, so a rating is never
anonymous and an ``unknown`` one means no imported record rates it.
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
                    f = msgspec.structs.replace(f, severity=best[2], score=best[1],
                                                severity_source=f"alias:{best[0]}")
        out.append(f)
    return out


# (provider, score or None, rating) of one CVSS rating of a CVE: provider is
# ``cna:<short name>``, ``adp:<short name>`` or ``nvd``.
Rating = tuple[str, float | None, str]


def _provider_rank(provider: str) -> int:
    return 0 if provider.startswith("cna:") else 1 if provider.startswith("adp:") else 2


def best_rating(ratings: Iterable[Rating]) -> Rating | None:
    """The CVE rating to use: the CNA's, else an ADP's, else NVD's; the highest score within one kind."""
    usable = [r for r in ratings if r[2] != "unknown"]
    if not usable:
        return None
    return min(usable, key=lambda r: (_provider_rank(r[0]), -(r[1] or 0.0), r[0]))


def fill_from_cve(findings: list[Finding], ratings: Mapping[str, list[Rating]]) -> list[Finding]:
    """``findings`` with each ``unknown`` one rated by the CVSS of its CVE record (or NVD) when one exists.

    ``ratings`` maps a CVE id to its ratings. ``severity_source`` becomes
    ``cve:<provider>:<CVE>`` or ``nvd:<CVE>``.
    """
    if not ratings:
        return findings
    out = []
    for f in findings:
        if f.severity == "unknown":
            found = [(cve, r) for cve in (f.ids or [f.advisory_id]) for r in ratings.get(cve, ())]
            best = best_rating(r for _cve, r in found)
            if best is not None:
                cve = next(c for c, r in found if r == best)
                where = f"nvd:{cve}" if best[0] == "nvd" else f"cve:{best[0]}:{cve}"
                f = msgspec.structs.replace(f, severity=best[2], score=best[1], severity_source=where)
        out.append(f)
    return out
