"""Fleet queries on a year of pushes: ``/v1/images`` and ``/v1/findings?cve=`` p50/p95 through the real api.

Generates, inside PostgreSQL (``generate_series``, no rows cross the wire),
``--scale`` × a year of 10,000 pushes a day: 3,650,000 × scale images over
365 days in 2,000 repositories (5 tags each, the current tag rows point at
the newest images), each image with 50–300 findings (``ids`` = the CVE id;
CVE ids drawn from a skewed distribution: a few in most images, most in
few), severities in realistic shares, a tenth of the images marked gone.
Then starts the api as its own process (embedded NATS and PostgreSQL) and
times ``--requests`` HTTP requests per query, after ``ANALYZE``:

- ``/v1/images`` default page, ``?repository=``, ``?tag=``, ``?severity=critical``,
  deep pagination (cursor near the end);
- ``/v1/findings?cve=`` a common CVE (in most images) and a rare one.

Prints p50/p95 per query, the row counts and the EXPLAIN ANALYZE plan of each
query's SQL. Usage: ``.venv/bin/python bench/fleet_queries.py [--scale 0.01] [--requests 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/secrets.py must not shadow the standard library's secrets
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port  # noqa: E402
from imagewatch.store.db import apply_migrations  # noqa: E402

YEAR_IMAGES = 3_650_000
REPOS = 2000
CVES = 20000


def generate_sql(images: int, chunk: int) -> list[str]:
    """The statements that fill the tables; findings in chunks of ``chunk`` images."""
    digest = "'sha256:' || md5(i::text) || md5((i + 1)::text)"
    out = [
        f"""INSERT INTO images (digest, media_type, platform, config_digest, first_seen, last_seen, gone_at)
            SELECT {digest}, 'application/vnd.oci.image.manifest.v1+json', 'linux/amd64',
                   'sha256:' || md5('c' || i) || md5('d' || i),
                   now() - make_interval(secs => 31536000.0 * ({images} - i) / {images}),
                   now() - make_interval(secs => 31536000.0 * ({images} - i) / {images}),
                   CASE WHEN i % 10 = 0 THEN now() - interval '1 day' END
            FROM generate_series(1, {images}) i""",
        f"""INSERT INTO image_repositories (digest, registry, repository)
            SELECT {digest}, 'registry.example.com', 'team' || (i % 50) || '/app' || (i % {REPOS})
            FROM generate_series(1, {images}) i""",
        # the newest image of each repository holds its 5 tags (one per platform-less tag name)
        f"""INSERT INTO image_tags (registry, repository, tag, platform, digest)
            SELECT 'registry.example.com', 'team' || (i % 50) || '/app' || (i % {REPOS}), t, 'linux/amd64',
                   {digest}
            FROM generate_series({max(1, images - REPOS * 5 + 1)}, {images}) i,
                 LATERAL (SELECT (ARRAY['latest', 'main', 'v1', 'v2', 'stable'])[1 + (i / {REPOS}) % 5] AS t) x
            ON CONFLICT DO NOTHING""",
    ]
    for start in range(1, images + 1, chunk):
        end = min(images, start + chunk - 1)
        out.append(f"""
            INSERT INTO findings (image_digest, key, advisory_id, ids, ecosystem, package, version,
                                  fixed_versions, severity, score, finding, first_seen)
            SELECT d, cve || '|Alpine:v3.19|pkg' || j || '|1.0', cve, ARRAY[cve], 'Alpine:v3.19', 'pkg' || j, '1.0',
                   CASE WHEN j % 3 = 0 THEN '{{}}'::text[] ELSE ARRAY['1.1'] END, sev, 5.0,
                   jsonb_build_object('advisory_id', cve, 'ids', jsonb_build_array(cve), 'package', 'pkg' || j,
                                      'version', '1.0', 'ecosystem', 'Alpine:v3.19', 'severity', sev),
                   fs
            FROM (SELECT {digest} AS d, i, now() - make_interval(secs => 31536000.0 * ({images} - i) / {images}) AS fs
                  FROM generate_series({start}, {end}) i) img,
                 LATERAL generate_series(1, 50 + (i * 7919) % 251) j,
                 LATERAL (SELECT 'CVE-' || (2015 + (k % 10)) || '-' || (10000 + k) AS cve,
                                 (ARRAY['critical', 'high', 'high', 'medium', 'medium', 'medium', 'low', 'low',
                                        'low', 'unknown'])[1 + (k + j) % 10] AS sev
                          FROM (SELECT (floor({CVES} * power(((i * 2654435761 + j * 40503) % 1000003) / 1000003.0,
                                                              3)))::int + 0 * j AS k) kk) c
            ON CONFLICT DO NOTHING""")
    return out


async def generate(dsn: str, images: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        # bulk load without the per-row finding_ids trigger; the index table is filled once at the end
        await conn.execute("SET session_replication_role = replica")
        t = time.perf_counter()
        statements = generate_sql(images, 20000)
        for n, sql in enumerate(statements):
            await conn.execute(sql)
            if n % 10 == 0 or n == len(statements) - 1:
                print(f"  generated {n + 1}/{len(statements)} statements ({time.perf_counter() - t:.0f} s)", flush=True)
        await conn.execute("RESET session_replication_role")
        await conn.execute("""INSERT INTO finding_ids (id, image_digest, key)
                              SELECT DISTINCT x, image_digest, key FROM findings, unnest(ids) AS x""")
        print(f"  finding_ids filled ({time.perf_counter() - t:.0f} s)", flush=True)
        await conn.execute("ANALYZE")
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                  for t in ("images", "image_repositories", "image_tags", "findings")}
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"data: {counts}, database {size}, generated in {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        await conn.close()


async def explain(dsn: str, sql: str, *args) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.close()


async def time_requests(base: str, path: str, n: int) -> tuple[list[float], int]:
    out = []
    items = 0
    async with aiohttp.ClientSession() as http:
        for i in range(n + 3):
            t = time.perf_counter()
            async with http.get(base + path) as resp:
                body = await resp.json()
                assert resp.status == 200, body
            if i >= 3:  # three untimed first: connections, plans cached
                out.append(time.perf_counter() - t)
            items = len(body["items"])
    return out, items


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def bench(dsn: str, api: str, requests: int, show_plans: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deep = await conn.fetchval("SELECT digest FROM images ORDER BY digest OFFSET (SELECT count(*) * 9 / 10 FROM images) LIMIT 1")
        common = await conn.fetchval("SELECT advisory_id FROM findings GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        rare = await conn.fetchval("""SELECT advisory_id FROM (SELECT advisory_id, count(*) n FROM findings
                                      WHERE image_digest > 'sha256:f' GROUP BY 1) x ORDER BY n, 1 LIMIT 1""")
        repo = await conn.fetchval("SELECT repository FROM image_repositories LIMIT 1")
        counts = {c: await conn.fetchval("SELECT count(DISTINCT image_digest) FROM findings WHERE $1 = ANY(ids)", c)
                  for c in (common, rare)}
    finally:
        await conn.close()
    print(f"common CVE {common} in {counts[common]} images, rare {rare} in {counts[rare]}")
    queries = [
        ("/v1/images (default page)", "/v1/images"),
        ("/v1/images?repository=", f"/v1/images?repository=registry.example.com/{repo}"),
        ("/v1/images?tag=latest", "/v1/images?tag=latest"),
        ("/v1/images?severity=critical", "/v1/images?severity=critical"),
        ("/v1/images deep cursor (90 %)", f"/v1/images?cursor={deep}"),
        ("/v1/findings?cve= common", f"/v1/findings?cve={common}"),
        ("/v1/findings?cve= rare", f"/v1/findings?cve={rare}"),
    ]
    print(f"\n| query | items | p50 ms | p95 ms | requests |\n|---|---|---|---|---|")
    for name, path in queries:
        times, items = await time_requests(api, path, requests)
        print(f"| `{name}` | {items} | {1000 * statistics.median(times):.1f} | {1000 * pct(times, .95):.1f} | "
              f"{len(times)} |", flush=True)
    if show_plans:
        from imagewatch.store import findings, images  # noqa: F401 - the SQL is theirs; shown by plan
        print("\nplans (EXPLAIN ANALYZE of the store's SQL):")
        print(await explain(dsn, _LIST_SQL, None, "latest", None, 100, None, None, None))
        print(await explain(dsn, _LIST_SQL, None, None, deep, 100, None, None, None))
        print(await explain(dsn, _FINDINGS_SQL, common, 100, None))
        print(await explain(dsn, _FINDINGS_SQL, rare, 100, None))


_LIST_SQL = """SELECT i.digest FROM images i
  JOIN image_repositories r ON r.digest = i.digest AND ($3::text IS NULL OR r.digest > $3)
  LEFT JOIN image_tags t ON t.digest = i.digest AND ($3::text IS NULL OR t.digest > $3)
  WHERE ($1::text IS NULL OR r.repository = $1 OR r.registry || '/' || r.repository = $1)
    AND ($2::text IS NULL OR t.tag = $2) AND ($3::text IS NULL OR i.digest > $3)
    AND ($5::timestamptz IS NULL OR i.first_seen >= $5)
    AND (($6::text[] IS NULL AND $7::bool IS NULL) OR EXISTS (SELECT 1 FROM findings f WHERE f.image_digest = i.digest
      AND ($6::text[] IS NULL OR f.severity = ANY($6::text[])) AND ($7::bool IS NULL OR (cardinality(f.fixed_versions) > 0) = $7)))
  GROUP BY i.digest ORDER BY i.digest LIMIT $4"""
_FINDINGS_SQL = """WITH page AS (SELECT DISTINCT image_digest FROM finding_ids
                 WHERE id = $1 AND ($3::text IS NULL OR image_digest > $3) ORDER BY image_digest LIMIT $2)
  SELECT f.image_digest, i.platform, array_agg(DISTINCT f.finding::text)
  FROM page p JOIN findings f ON f.image_digest = p.image_digest
  JOIN finding_ids x ON x.id = $1 AND x.image_digest = f.image_digest AND x.key = f.key
  JOIN images i ON i.digest = f.image_digest
  GROUP BY f.image_digest, i.platform ORDER BY f.image_digest"""
"""The SQL of ``store.findings.images_with_vulnerability`` without the per-image sub-selects."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.01, help="fraction of a year of 10,000 pushes a day")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--plans", action="store_true", help="print EXPLAIN ANALYZE of two queries")
    ap.add_argument("--database-url", default="", help="use this (empty) database instead of an embedded one")
    ap.add_argument("--reuse", action="store_true", help="with --database-url: the data is there already")
    args = ap.parse_args()
    images = max(REPOS * 5, int(YEAR_IMAGES * args.scale))
    print(f"cores: {os.cpu_count()}; scale {args.scale}: {images} images", flush=True)
    root = Path(tempfile.mkdtemp(prefix="iw-bench-fleet-"))
    pg = nats = api = None
    try:
        if args.database_url:
            dsn = args.database_url
        else:
            pg = EmbeddedPostgres(root / "pg").start()
            dsn = pg.url
        nats = EmbeddedNats(root / "nats")
        nats.start()
        asyncio.run(apply_migrations(dsn))
        if not args.reuse:
            asyncio.run(generate(dsn, images))
        port = free_port()
        env = dict(os.environ, IMAGEWATCH_DATABASE_URL=dsn, IMAGEWATCH_NATS_URL=nats.url,
                   IMAGEWATCH_API_PORT=str(port), IMAGEWATCH_API_HOST="127.0.0.1",
                   IMAGEWATCH_DATA_DIR=str(root / "data"), IMAGEWATCH_LOG_LEVEL="error",
                   IMAGEWATCH_WEBHOOK_TOKEN="fleet-token-0123456789abcdef")
        env.pop("IMAGEWATCH_CONFIG", None)
        api = subprocess.Popen([sys.executable, "-m", "imagewatch.cli", "service", "api"], env=env)
        base = f"http://127.0.0.1:{port}"

        async def ready() -> None:
            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    try:
                        async with http.get(base + "/readyz") as resp:
                            if resp.status == 200:
                                return
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.2)
            raise RuntimeError("api not ready")

        asyncio.run(ready())
        asyncio.run(bench(dsn, base, args.requests, args.plans))
    finally:
        if api is not None:
            api.terminate()
            api.wait(30)
        if nats is not None:
            nats.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
