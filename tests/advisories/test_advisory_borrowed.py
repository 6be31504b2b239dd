"""Borrowing a severity from another record of the same vulnerability (no database)."""

from __future__ import annotations

from imagewatch.advisories import Advisory, SeverityScore
from imagewatch.advisories.borrowed import best_known, fill_unknown, severity_rows
from imagewatch.models import Finding

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


def test_severity_rows_cover_every_id_of_a_rated_live_record():
    ghsa = Advisory(id="GHSA-aaaa-bbbb-cccc", aliases=["CVE-2020-0001"],
                    severity=[SeverityScore(type="CVSS_V3", score=CRITICAL)])
    assert severity_rows(ghsa) == [("GHSA-aaaa-bbbb-cccc", "GHSA-aaaa-bbbb-cccc", 9.8, "critical"),
                                   ("CVE-2020-0001", "GHSA-aaaa-bbbb-cccc", 9.8, "critical")]
    rated = Advisory(id="GHSA-x", aliases=["CVE-1"], database_specific={"severity": "MODERATE"})
    assert severity_rows(rated) == [("GHSA-x", "GHSA-x", None, "medium"), ("CVE-1", "GHSA-x", None, "medium")]
    assert severity_rows(Advisory(id="PYSEC-1", aliases=["CVE-1"])) == []
    assert severity_rows(Advisory(id="GHSA-y", withdrawn="2024-01-01T00:00:00Z",
                                  database_specific={"severity": "HIGH"})) == []


def test_best_known_prefers_the_highest_score_then_the_highest_rating():
    assert best_known([("B", None, "critical"), ("A", 5.3, "medium"), ("C", 7.5, "high")]) == ("C", 7.5, "high")
    assert best_known([("B", None, "low"), ("A", None, "high"), ("C", None, "high")]) == ("A", None, "high")
    assert best_known([("A", None, "unknown")]) is None
    assert best_known([]) is None


def test_fill_unknown_only_touches_unknown_findings_with_a_known_alias():
    def finding(adv_id: str, *ids: str, severity: str = "unknown") -> Finding:
        return Finding(advisory_id=adv_id, ids=[adv_id, *ids], package="p", version="1", ecosystem="PyPI",
                       severity=severity)

    known = {"CVE-1": [("GHSA-1", 9.8, "critical")], "CVE-2": [("UBUNTU-CVE-2", None, "medium")]}
    out = fill_unknown([finding("PYSEC-1", "CVE-1"), finding("PYSEC-2", "CVE-2"),
                        finding("PYSEC-3", "CVE-3"), finding("PYSEC-4", "CVE-1", severity="low")], known)
    assert [(f.severity, f.score) for f in out] == [("critical", 9.8), ("medium", None), ("unknown", None),
                                                    ("low", None)]
