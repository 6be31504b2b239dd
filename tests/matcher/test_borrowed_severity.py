"""A finding from a record without severity (PYSEC) takes it from another record of the same CVE."""

from __future__ import annotations

import asyncpg
import msgspec

from imagewatch.advisories import Advisory, Affected, PackageRef, SeverityScore
from imagewatch.matcher.matching import match_packages, rematch_packages
from imagewatch.store.advisories import upsert_advisories

from .helpers import URLLIB3, import_advisories, pypi

# A GHSA record for the CVE that PYSEC-2020-148 aliases, about a package in another
# ecosystem, so it matches nothing itself and only lends its severity.
GHSA = Advisory(id="GHSA-test-9999-crit", aliases=["CVE-2020-26137"], modified="2024-01-01T00:00:00Z",
                severity=[SeverityScore(type="CVSS_V3", score="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")],
                affected=[Affected(package=PackageRef(ecosystem="npm", name="not-urllib3"))])


async def _severities(pool) -> dict[str, tuple[str, float | None]]:
    findings = await match_packages(pool, [pypi("urllib3", "1.24.1")], None)
    return {f.advisory_id: (f.severity, f.score) for f in findings}


async def test_unknown_severity_is_borrowed_from_an_aliasing_record(pg_dsn):
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        await import_advisories(pool, URLLIB3)
        assert await _severities(pool) == {"PYSEC-2019-133": ("unknown", None),
                                           "PYSEC-2020-148": ("unknown", None)}

        await upsert_advisories(pool, "osv:npm", [GHSA])
        assert await _severities(pool) == {"PYSEC-2019-133": ("unknown", None),
                                           "PYSEC-2020-148": ("critical", 9.8)}
        again, found = await rematch_packages(pool, [pypi("urllib3", "1.24.1")], None, {("PyPI", "urllib3")})
        assert [p.name for p in again] == ["urllib3"]
        assert {f.advisory_id: f.severity for f in found}["PYSEC-2020-148"] == "critical"

        withdrawn = msgspec.structs.replace(GHSA, modified="2024-02-01T00:00:00Z",
                                            withdrawn="2024-02-01T00:00:00Z")
        await upsert_advisories(pool, "osv:npm", [withdrawn])
        assert (await _severities(pool))["PYSEC-2020-148"] == ("unknown", None)
    finally:
        await pool.close()
