"""The store keeps each rated advisory's severity under its id and aliases (``advisory_severities``)."""

from __future__ import annotations

import asyncpg
import msgspec

from imagewatch.advisories import Advisory, Affected, PackageRef, SeverityScore
from imagewatch.store.advisories import backfill_severities, known_severities, upsert_advisories

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5


def _ghsa(vector: str, **changes) -> Advisory:
    adv = Advisory(id="GHSA-xxxx-yyyy-zzzz", modified="2024-01-01T00:00:00Z", aliases=["CVE-2099-0001"],
                   severity=[SeverityScore(type="CVSS_V3", score=vector)],
                   affected=[Affected(package=PackageRef(ecosystem="npm", name="left-pad"))])
    return msgspec.structs.replace(adv, **changes)


async def test_rated_record_fills_rows_rewrites_replace_them_and_withdrawal_removes_them(pg_dsn: str) -> None:
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        unrated = Advisory(id="PYSEC-2099-1", aliases=["CVE-2099-0001"],
                           affected=[Affected(package=PackageRef(ecosystem="PyPI", name="left-pad"))])
        await upsert_advisories(pool, "osv:npm", [_ghsa(CRITICAL)])
        await upsert_advisories(pool, "osv:PyPI", [unrated])
        assert await known_severities(pool, ["CVE-2099-0001", "PYSEC-2099-1", "CVE-0"]) == {
            "CVE-2099-0001": [("GHSA-xxxx-yyyy-zzzz", 9.8, "critical")]}
        assert await known_severities(pool, ["GHSA-xxxx-yyyy-zzzz"]) == {
            "GHSA-xxxx-yyyy-zzzz": [("GHSA-xxxx-yyyy-zzzz", 9.8, "critical")]}
        assert await known_severities(pool, []) == {}

        await upsert_advisories(pool, "osv:npm", [_ghsa(HIGH, modified="2024-02-01T00:00:00Z",
                                                         aliases=["CVE-2099-0002"])])
        assert await known_severities(pool, ["CVE-2099-0001", "CVE-2099-0002"]) == {
            "CVE-2099-0002": [("GHSA-xxxx-yyyy-zzzz", 7.5, "high")]}

        await upsert_advisories(pool, "osv:npm", [_ghsa(HIGH, modified="2024-03-01T00:00:00Z",
                                                         withdrawn="2024-03-01T00:00:00Z")])
        assert await known_severities(pool, ["CVE-2099-0001", "CVE-2099-0002", "GHSA-xxxx-yyyy-zzzz"]) == {}
    finally:
        await pool.close()


async def test_backfill_rebuilds_rows_for_a_store_written_without_them(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await upsert_advisories(conn, "osv:npm", [_ghsa(CRITICAL)])
        await conn.execute("DELETE FROM advisory_severities")  # as before migration 0010
        assert await backfill_severities(conn) == 2
        assert await known_severities(conn, ["CVE-2099-0001"]) == {
            "CVE-2099-0001": [("GHSA-xxxx-yyyy-zzzz", 9.8, "critical")]}
        assert await backfill_severities(conn) == 2  # idempotent
    finally:
        await conn.close()
