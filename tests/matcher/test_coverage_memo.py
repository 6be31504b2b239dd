"""The matcher's coverage memo: remembered per advisory-store version, never older than the store."""

from __future__ import annotations

import msgspec

from imagewatch.advisories.model import Advisory
from imagewatch.matcher.coverage import CoverageMemo, coverage_of
from imagewatch.models import Package
from imagewatch.store.advisories import advisory_version, record_sync, upsert_advisories
from imagewatch.store.db import connect_pool


def _advisory(n: int, name: str = "requests") -> Advisory:
    return msgspec.convert({"id": f"GHSA-memo-{n:04d}", "affected": [
        {"package": {"ecosystem": "PyPI", "name": name},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}, Advisory)


async def test_memo_follows_every_change_of_the_advisory_store(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 2, migrate=False)
    packages = [Package(name="requests", version="1.0", ecosystem="PyPI", kind="lang")]
    memo = CoverageMemo()
    try:
        async with pool.acquire() as conn:
            before = await coverage_of(conn, packages, None, memo)
            assert [e.covered for e in before.entries] == [False]
            v0 = await advisory_version(conn)

            await upsert_advisories(conn, "osv:PyPI", [_advisory(1), _advisory(2, "flask")])
            assert await advisory_version(conn) > v0
            after = await coverage_of(conn, packages, None, memo)
            assert [(e.covered, e.records, e.sources) for e in after.entries] == [(True, 2, ["osv:PyPI"])]
            assert after == await coverage_of(conn, packages, None)  # same as counting afresh

            # unchanged records write nothing and keep the version; the memo answers from memory
            v1 = await advisory_version(conn)
            await upsert_advisories(conn, "osv:PyPI", [_advisory(1)])
            assert await advisory_version(conn) == v1
            assert await coverage_of(conn, packages, None, memo) == after and memo.version == v1

            # a recorded sync moves last_sync, and the version with it
            await record_sync(conn, "osv:PyPI", "etag:1")
            synced = await coverage_of(conn, packages, None, memo)
            assert synced.entries[0].last_sync and synced == await coverage_of(conn, packages, None)
    finally:
        await pool.close()
