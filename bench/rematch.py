"""Benchmark: the matcher on PostgreSQL: import, push matching, and re-matching after an advisory change.

Imports the shared PyPI OSV records and the Alpine v3.19 secdb into a fresh
database (the embedded PostgreSQL, or ``IMAGEWATCH_DATABASE_URL``), stores
IMAGES images of PACKAGES packages each (Alpine 3.19 apk packages named by the
secdb plus PyPI wheels named by the OSV data; one in ten at a vulnerable
version, the others patched), matches
each once as a push would, then imports one new advisory for a PyPI package
every image holds and times the matcher's ``iw.vulndb`` handler (the publish
is a no-op here). Prints images per second.
Run: .venv/bin/python bench/rematch.py [IMAGES] [PACKAGES]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import msgspec

# bench/secrets.py would shadow the standard library's ``secrets`` that nats-py imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from imagewatch.advisories import from_dict, load_path
from imagewatch.config import MatcherConfig
from imagewatch.matcher.matching import match_packages
from imagewatch.messages import PackageKey, VulnDBChanged
from imagewatch.models import LayerRef, OSInfo, Package
from imagewatch.store import findings as findings_store
from imagewatch.store import images as images_store
from imagewatch.store import packages as packages_store
from imagewatch.store.advisories import upsert_advisories
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths
from imagewatch.matcher.rematch import vulndb_handler

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ALPINE = OSInfo(id="alpine", version_id="3.19.1")


class _NoBus:
    async def publish(self, subject, message, msg_id):
        return 0


def _packages(advisories, count: int) -> list[Package]:
    """Half Alpine (origin = secdb name, below the first fix), half PyPI, all with advisories."""
    alpine, pypi = {}, {}
    for adv in advisories:
        for entry in adv.affected:
            p = entry.package
            fixes = [e.fixed for r in entry.ranges for e in r.events if e.fixed]
            if p is None or not fixes:
                continue
            if p.ecosystem == "Alpine:v3.19" and p.name not in alpine:
                alpine[p.name] = Package(name=p.name, version="0.0.1-r0", ecosystem="Alpine", kind="os",
                                         source_name=p.name, source_version="0.0.1-r0")
            elif p.ecosystem == "PyPI" and p.name not in pypi and fixes[0][0].isdigit():
                pypi[p.name] = Package(name=p.name, version="0.0.1", ecosystem="PyPI")
    half = count // 2
    chosen = list(alpine.values())[:half]
    chosen += [p for name, p in pypi.items() if name != "urllib3"][: count - len(chosen) - 1]
    # Nine packages in ten are patched (a version above every fix), one in ten is old.
    chosen = [p if i % 10 == 0 else msgspec.structs.replace(
        p, version="999.0-r0" if p.kind == "os" else "999.0", source_version="999.0-r0" if p.kind == "os" else "")
        for i, p in enumerate(chosen)]
    return chosen + [Package(name="urllib3", version="1.24.1", ecosystem="PyPI")]


async def _bench(dsn: str, images: int, size: int) -> None:
    pool = await connect_pool(dsn, 2, 8)
    paths = [SHARED / "osv" / "PyPI", SHARED / "distro" / "alpine-secdb" / "v3.19"]
    start = time.perf_counter()
    results = await import_paths(pool, paths)
    took = time.perf_counter() - start
    n = sum(len(r.advisories) for r in results)
    print(f"import {n} advisories (PyPI OSV + Alpine v3.19 secdb) in {took:.1f} s = {n / took:.0f}/s")

    advisories = [a for p in paths for a in load_path(p)]
    packages = _packages(advisories, size)
    layer = LayerRef(digest="sha256:" + "1" * 64, diff_id="sha256:" + "2" * 64, size=1, media_type="x")
    async with pool.acquire() as conn:
        for i in range(images):
            digest = f"sha256:{i:064x}"
            await images_store.record_image(
                conn, digest=digest, registry="bench", repository=f"team/app{i % 50}", media_type="x",
                platform="linux/amd64", config_digest="", config=None, index_digest="", layers=[layer],
                tag=f"v{i}")
            await packages_store.replace_image_packages(conn, digest, packages, ALPINE)

    times = []
    async with pool.acquire() as conn:
        for i in range(images):
            digest = f"sha256:{i:064x}"
            t = time.perf_counter()
            found = await match_packages(conn, await packages_store.image_packages(conn, digest), ALPINE)
            await findings_store.replace_findings(conn, digest, found)
            await images_store.set_stage(conn, digest, "matcher", "done")
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"push match: {len(packages)} packages -> {len(found)} findings per image, "
          f"median {med * 1000:.1f} ms/image = {1 / med:.0f} images/s (one connection)")

    new = from_dict({"id": "GHSA-bench-0001", "modified": "2030-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "urllib3"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}, "bench")
    pairs, ids = await upsert_advisories(pool, "bench", [new])
    ctx = SimpleNamespace(pool=pool, bus=_NoBus(), config=SimpleNamespace(matcher=MatcherConfig()))
    handle = vulndb_handler(ctx)
    msg = VulnDBChanged(update_id="bench-1", source="bench",
                        changed=[PackageKey(ecosystem=e, name=n) for e, n in pairs], advisories=ids)
    start = time.perf_counter()
    await handle(msg, None)
    took = time.perf_counter() - start
    rows = await pool.fetchval("SELECT count(*) FROM matcher_rematches WHERE update_id = 'bench-1'"
                               " AND new_ids = ARRAY['GHSA-bench-0001']")
    print(f"re-match after one new advisory: {images} images ({rows} with a new finding) in {took:.2f} s "
          f"= {images / took:.0f} images/s (matcher concurrency {MatcherConfig().concurrency})")
    await pool.close()


def main() -> int:
    if not SHARED.exists():
        print(f"bench/rematch: shared data not found at {SHARED}; skipping")
        return 0
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    dsn = os.environ.get("IMAGEWATCH_DATABASE_URL")
    if dsn:
        asyncio.run(_bench(dsn, images, size))
        return 0
    from imagewatch.cli.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="iw-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            asyncio.run(_bench(pg.url, images, size))
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
