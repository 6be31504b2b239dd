"""finding_ids (migration 0020_b) follows every write to findings: the /v1/findings?cve= page index."""

from __future__ import annotations

from imagewatch.models import Finding, LayerRef
from imagewatch.store import findings as store
from imagewatch.store import images as images_store
from imagewatch.store.db import connect_pool


def _finding(advisory: str, ids: list[str], package: str = "musl") -> Finding:
    return Finding(advisory_id=advisory, ids=ids, package=package, version="1.0", ecosystem="Alpine:v3.19",
                   severity="high")


async def _image(conn, n: int) -> str:
    digest = f"sha256:{n:064x}"
    await images_store.record_image(
        conn, digest=digest, registry="r.example", repository="team/app", media_type="m", platform="linux/amd64",
        config_digest="", config=None, index_digest="",
        layers=[LayerRef(digest=f"sha256:{n + 100:064x}", diff_id=f"sha256:{n + 100:064x}", size=1, media_type="m")])
    return digest


async def _index(conn) -> set[tuple[str, str, str]]:
    return {(r["id"], r["image_digest"], r["key"]) for r in await conn.fetch("SELECT * FROM finding_ids")}


async def _expected(conn) -> set[tuple[str, str, str]]:
    return {(x, r["image_digest"], r["key"]) for r in await conn.fetch("SELECT image_digest, key, ids FROM findings")
            for x in r["ids"]}


async def test_finding_ids_follows_inserts_updates_deletes_and_cascades(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 2, migrate=False)
    try:
        async with pool.acquire() as conn:
            a, b = await _image(conn, 1), await _image(conn, 2)
            await store.replace_findings(conn, a, [_finding("GHSA-1", ["GHSA-1", "CVE-1"]), _finding("CVE-2", ["CVE-2"])])
            await store.replace_findings(conn, b, [_finding("GHSA-1", ["GHSA-1"])])
            assert await _index(conn) == await _expected(conn) and len(await _index(conn)) == 4
            # an upsert that changes the aliases (same key), and a finding dropped
            await store.replace_findings(conn, a, [_finding("GHSA-1", ["GHSA-1", "CVE-9"])])
            assert await _index(conn) == await _expected(conn)
            assert ("CVE-1", a, store.finding_key(_finding("GHSA-1", []))) not in await _index(conn)
            rows = await store.images_with_vulnerability(conn, "GHSA-1", limit=1)
            assert [r["digest"] for r in rows] == [a] and rows[0]["findings"][0].ids == ["GHSA-1", "CVE-9"]
            rows = await store.images_with_vulnerability(conn, "GHSA-1", limit=1, after=a)
            assert [r["digest"] for r in rows] == [b]
            assert [r["digest"] for r in await store.images_with_vulnerability(conn, "CVE-9")] == [a]
            # re-match of some packages, then the image deleted (retention): cascade keeps the index true
            await store.replace_package_findings(conn, b, [("Alpine:v3.19", "musl", "1.0")], [])
            assert await _index(conn) == await _expected(conn)
            await conn.execute("DELETE FROM images WHERE digest = $1", a)
            assert await _index(conn) == await _expected(conn) == set()
    finally:
        await pool.close()
