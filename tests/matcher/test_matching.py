"""The matching library on a real advisory store: batched lookups, OS releases, deltas."""

from __future__ import annotations

import asyncpg

from imagewatch.matcher.matching import match_packages, new_and_fixed, severity_counts
from imagewatch.models import Finding, OSInfo

from .helpers import SECDB_319, URLLIB3, apk, import_advisories, pypi


async def test_match_packages_finds_pypi_and_alpine_findings(pg_dsn):
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        await import_advisories(pool, URLLIB3, SECDB_319)
        packages = [pypi("urllib3", "1.24.1"), pypi("requests", "2.0.0"),
                    apk("libssl3", "3.1.4-r0", origin="openssl"), apk("busybox", "1.36.1-r20"),
                    apk("musl", "1.2.4-r2")]
        findings = await match_packages(pool, packages, OSInfo(id="alpine", version_id="3.19.1"))
        by_pkg: dict[str, list[Finding]] = {}
        for f in findings:
            by_pkg.setdefault(f.package, []).append(f)
        assert set(by_pkg) == {"urllib3", "libssl3"}
        urllib3 = {f.advisory_id: f for f in by_pkg["urllib3"]}
        assert set(urllib3) == {"PYSEC-2019-133", "PYSEC-2020-148"}
        assert urllib3["PYSEC-2019-133"].cve == "CVE-2019-11324"
        assert urllib3["PYSEC-2019-133"].fixed_versions == ["1.24.2"]
        ssl = {f.advisory_id: f for f in by_pkg["libssl3"]}
        assert "CVE-2023-5678" in ssl and ssl["CVE-2023-5678"].fixed_versions == ["3.1.4-r1"]
        assert "CVE-2023-5363" not in ssl  # fixed in 3.1.4-r0, the installed version
        assert ssl["CVE-2023-5678"].path == "lib/apk/db/installed"

        # Another release, or no OS known: the v3.19 secdb does not apply.
        assert not await match_packages(pool, [apk("libssl3", "3.1.4-r0", "openssl")],
                                         OSInfo(id="alpine", version_id="3.18.4"))
        assert not await match_packages(pool, [apk("libssl3", "3.1.4-r0", "openssl")], None)
        assert await match_packages(pool, [], None) == []
    finally:
        await pool.close()


def _f(adv_id: str, *ids: str, severity: str = "high") -> Finding:
    return Finding(advisory_id=adv_id, ids=[adv_id, *ids], package="p", version="1", ecosystem="PyPI",
                   severity=severity)


def test_new_and_fixed_compare_vulnerabilities_not_primary_ids():
    before = [_f("GHSA-1", "CVE-1"), _f("PYSEC-2", "CVE-2")]
    after = [_f("PYSEC-1", "GHSA-1", "CVE-1"), _f("PYSEC-3")]
    assert new_and_fixed(before, after) == (["PYSEC-3"], ["PYSEC-2"])
    assert new_and_fixed([], after) == (["PYSEC-1", "PYSEC-3"], [])
    assert new_and_fixed(after, after) == ([], [])


def test_severity_counts_most_severe_first():
    counts = severity_counts([_f("A", severity="low"), _f("B", severity="critical"), _f("C", severity="low")])
    assert list(counts.items()) == [("critical", 1), ("low", 2)]
