"""The advisory store on a real PostgreSQL (the ``pg_dsn`` fixture)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import msgspec

from imagewatch.advisories import load_path
from imagewatch.store.advisories import advisories_for, get_advisory, record_sync, source_status, upsert_advisories

DATA = Path(__file__).parent / "data"


async def test_upsert_is_incremental_and_withdrawn_stops_matching(pg_dsn: str) -> None:
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        advisories = list(load_path(DATA / "osv-yaml"))
        pairs, ids = await upsert_advisories(pool, "osv:PyPI", advisories)
        assert pairs == {("PyPI", "urllib3")}
        assert sorted(ids) == ["PYSEC-2019-133", "PYSEC-2020-148"]

        assert await upsert_advisories(pool, "osv:PyPI", advisories) == (set(), [])

        found = await advisories_for(pool, "PyPI", ["URLLib3", "requests"])
        assert set(found) == {"URLLib3"}
        assert sorted(a.id for a in found["URLLib3"]) == ["PYSEC-2019-133", "PYSEC-2020-148"]
        assert found["URLLib3"][0] in advisories

        changed = msgspec.structs.replace(advisories[0], modified="2030-01-01T00:00:00Z",
                                          withdrawn="2030-01-01T00:00:00Z")
        pairs, ids = await upsert_advisories(pool, "osv:PyPI", [changed])
        assert pairs == {("PyPI", "urllib3")} and ids == [changed.id]
        found = await advisories_for(pool, "PyPI", ["urllib3"])
        assert [a.id for a in found["urllib3"]] == [advisories[1].id]
        assert (await get_advisory(pool, changed.id)).withdrawn
    finally:
        await pool.close()


async def test_os_release_lookup_and_source_status(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        pairs, ids = await upsert_advisories(conn, "alpine-secdb", load_path(DATA / "secdb"))
        assert ("Alpine:v3.19", "openssl") in pairs and ("Alpine:v3.18", "openssl") in pairs
        found = await advisories_for(conn, "Alpine:v3.19", ["openssl", "busybox", "musl"])
        assert set(found) == {"openssl", "busybox"}
        assert "CVE-2024-9143" in {a.id for a in found["openssl"]}

        await record_sync(conn, "alpine-secdb", '{"x": "etag:1"}')
        [status] = await source_status(conn)
        assert (status.name, status.fingerprint, status.records) == ("alpine-secdb", '{"x": "etag:1"}', len(ids))
        assert status.last_sync is not None
    finally:
        await conn.close()
