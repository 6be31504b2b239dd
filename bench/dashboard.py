"""Benchmark: the dashboard's fleet page over 5,000 images, server time, on real PostgreSQL.

Generates IMAGES current images (one tag each, in 250 repositories) plus one
previous image per tag pushed 30-60 days ago (the trend's history), FINDINGS
findings per image (severities spread like a real fleet, 60 % fixable),
secrets on one image in ten, five stages per image (some failed, partial,
running), and tag results with new ids for one tag in twenty. Rows go in with
COPY into a fresh database (the embedded PostgreSQL, or
``IMAGEWATCH_DATABASE_URL``). Then the api's application is served on
loopback and each page variant is requested REQUESTS times (after one warm-up
request; the trend chart is reused for ``dashboard.trend_cache_seconds``, and
the last variant turns that off); prints p50/p95 of the server's answer time per variant and of the
three queries behind the page. Target: p50 and p95 under 300 ms for the
default page.
Run: .venv/bin/python bench/dashboard.py [IMAGES] [FINDINGS] [REQUESTS]
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# bench/secrets.py would shadow the standard library's ``secrets`` that nats-py imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import aiohttp
from aiohttp import web

from imagewatch.config import load_config
from imagewatch.runtime.metrics import Metrics
from imagewatch.runtime.runner import ServiceContext
from imagewatch.store import dashboard as store
from imagewatch.store.db import connect_pool
from imagewatch_services.api.app import build_app
from imagewatch_services.api.dashboard import TRENDS

SEVERITY_MIX = ["critical"] * 3 + ["high"] * 12 + ["medium"] * 35 + ["low"] * 40 + ["unknown"] * 10
STAGES = ("fetcher", "inventory", "matcher", "secrets", "notifier")
VARIANTS = {
    "default (critical first, page 1)": "/",
    "sorted by repository, page 40": "/?sort=repository&dir=asc&page=40",
    "filter repo glob + critical + fixable": "/?repo=team-1*&severity=critical&fixable=1",
    "has secrets, sorted by last push": "/?secrets=1&sort=pushed",
    "scan state failed (state of every row)": "/?state=failed",
    "90-day trend": "/?days=90",
}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def _generate(pool, images: int, per_image: int) -> None:
    rnd = random.Random(17)
    now = datetime.now(timezone.utc)
    img_rows, repo_rows, tag_rows, hist_rows, finding_rows, secret_rows, stage_rows, result_rows = ([] for _ in range(8))
    for n in range(images):
        repo, tag = f"team-{n % 250}/app-{n}", "v1"
        current, previous = _digest(f"img-{n}"), _digest(f"img-{n}-old")
        pushed_old = now - timedelta(days=rnd.randint(30, 60), hours=rnd.randint(0, 23))
        pushed = now - timedelta(days=rnd.randint(0, 29), hours=rnd.randint(0, 23))
        for digest, seen in ((previous, pushed_old), (current, pushed)):
            img_rows.append((digest, "application/vnd.oci.image.manifest.v1+json", "linux/amd64", seen, seen))
            repo_rows.append((digest, "registry.example", repo))
            for k in range(per_image + rnd.randint(-per_image // 2, per_image // 2)):
                sev = rnd.choice(SEVERITY_MIX)
                fixed = ["9.9"] if rnd.random() < 0.6 else []
                vid = f"CVE-2024-{rnd.randint(1000, 60000)}"
                key = f"{vid}:pkg{k}"
                finding_rows.append((digest, key, vid, [vid], "Debian", f"pkg{k}", "1.0", fixed, sev, None,
                                     {"advisory_id": vid, "ids": [vid], "package": f"pkg{k}", "version": "1.0",
                                      "ecosystem": "Debian", "fixed_versions": fixed, "severity": sev},
                                     seen + timedelta(minutes=1)))
            state = "done"
            for stage in STAGES:
                roll = rnd.random()
                state = "failed" if roll < 0.01 else "running" if roll < 0.015 else "done"
                stage_rows.append((digest, stage, state, seen, seen + timedelta(seconds=rnd.uniform(0.2, 9)),
                                   "boom" if state == "failed" else None, 1, seen,
                                   ["java: damaged archive"] if rnd.random() < 0.01 else []))
        if n % 10 == 0:
            for k in range(rnd.randint(1, 3)):
                secret_rows.append((current, f"s{k}", "secret", "aws-access-key", "high", f"etc/app{k}.env", 1,
                                    {"kind": "secret", "rule_id": "aws-access-key", "title": "AWS key",
                                     "severity": "high", "path": f"etc/app{k}.env", "preview": "AKIA"}))
        tag_rows.append(("registry.example", repo, tag, "linux/amd64", current, previous, pushed))
        hist_rows += [("registry.example", repo, tag, "linux/amd64", previous, pushed_old),
                      ("registry.example", repo, tag, "linux/amd64", current, pushed)]
        if n % 20 == 0:
            result_rows.append(("registry.example", repo, tag, "linux/amd64", current, previous,
                                [f"CVE-2024-{rnd.randint(1000, 60000)}"], [], now - timedelta(hours=2)))
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("images", records=img_rows,
                                         columns=["digest", "media_type", "platform", "first_seen", "last_seen"])
        await conn.copy_records_to_table("image_repositories", records=repo_rows,
                                         columns=["digest", "registry", "repository"])
        await conn.copy_records_to_table("image_tags", records=tag_rows, columns=[
            "registry", "repository", "tag", "platform", "digest", "previous_digest", "updated_at"])
        await conn.execute("DELETE FROM tag_history")  # the trigger stamped now(); the real history:
        await conn.copy_records_to_table("tag_history", records=hist_rows, columns=[
            "registry", "repository", "tag", "platform", "digest", "since"])
        # jsonb has no binary COPY encoder: copy as text into a scratch table, then cast
        for table, rows, columns in (
            ("findings", finding_rows, ["image_digest", "key", "advisory_id", "ids", "ecosystem", "package",
                                        "version", "fixed_versions", "severity", "score", "finding", "first_seen"]),
            ("secret_findings", secret_rows, ["image_digest", "key", "kind", "rule_id", "severity", "path",
                                              "line", "finding"]),
        ):
            await conn.execute(f"CREATE TEMP TABLE scratch (LIKE {table} INCLUDING DEFAULTS); ALTER TABLE scratch ALTER finding TYPE text")
            await conn.copy_records_to_table("scratch", columns=columns, records=[
                (*r[:columns.index("finding")], json.dumps(r[columns.index("finding")]),
                 *r[columns.index("finding") + 1:]) for r in rows])
            names = ", ".join(columns)
            await conn.execute(f"INSERT INTO {table} ({names}) SELECT {names.replace('finding', 'finding::jsonb')} "
                               "FROM scratch; DROP TABLE scratch")
        await conn.copy_records_to_table("scan_stages", records=stage_rows, columns=[
            "image_digest", "stage", "state", "started_at", "finished_at", "reason", "attempts", "heartbeat_at",
            "problems"])
        await conn.copy_records_to_table("tag_results", records=result_rows, columns=[
            "registry", "repository", "tag", "platform", "digest", "previous", "new_ids", "fixed_ids",
            "computed_at"])
        await conn.execute("VACUUM ANALYZE")  # the steady state autovacuum keeps
    print(f"generated {images} tags, {len(img_rows)} images, {len(finding_rows)} findings, "
          f"{len(secret_rows)} secrets, {len(stage_rows)} stage rows")


def _pcts(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


async def _bench(dsn: str, images: int, per_image: int, requests: int) -> None:
    pool = await connect_pool(dsn, 1, 4)
    await _generate(pool, images, per_image)
    async with pool.acquire() as conn:
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + store._FLEET_PAGED.format(
            where="TRUE", order=store.FLEET_SORTS["critical"].format(d="DESC")), None, 30.0, 5, 50, 0)
    print("EXPLAIN ANALYZE of the default fleet query (last lines):")
    for row in plan[-3:]:
        print("   ", row[0])
    config = load_config(env={"IMAGEWATCH_DATA_DIR": tempfile.mkdtemp(prefix="iw-bench-dash-"),
                              "IMAGEWATCH_WEBHOOK_TOKEN": "bench-token-0123456789abcdef"})
    ctx = ServiceContext("api", config, bus=None, pool=pool, blobs=None, metrics=Metrics("api"))
    app = build_app(ctx)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"\nfleet page, server time per request ({requests} requests each, page size "
          f"{config.dashboard.page_size}):")
    uncached = {"default, trend not cached (ttl 0)": "/"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        for label, path in [*VARIANTS.items(), *uncached.items()]:
            if label in uncached:
                app[TRENDS].ttl = 0
            samples = []
            for i in range(requests + 1):
                start = time.perf_counter()
                async with http.get(path) as resp:
                    body = await resp.read()
                    assert resp.status == 200, (resp.status, body[:300])
                if i:
                    samples.append(time.perf_counter() - start)
            print(f"  {label:40s} {_pcts(samples)}   {len(body) // 1024} KiB")
    await runner.cleanup()
    print("\nthe queries behind the default page:")
    async with pool.acquire() as conn:
        for label, call in (
            ("fleet rows (page 1 of 50)", lambda: store.fleet(conn, store.FleetFilter(), limit=50, offset=0,
                                                              stall_deadline=30.0, stages=5)),
            ("trend 30 days", lambda: store.trend(conn, 30)),
            ("trend 90 days", lambda: store.trend(conn, 90)),
            ("new since yesterday", lambda: store.new_since(conn)),
        ):
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                await call()
                samples.append(time.perf_counter() - start)
            print(f"  {label:40s} {_pcts(samples)}")
    await pool.close()


def main() -> int:
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    per_image = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    requests = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    dsn = os.environ.get("IMAGEWATCH_DATABASE_URL")
    if dsn:
        asyncio.run(_bench(dsn, images, per_image, requests))
        return 0
    from imagewatch.cli.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="iw-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            asyncio.run(_bench(pg.url, images, per_image, requests))
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
