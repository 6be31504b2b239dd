"""Benchmark: import all of ../shared/data into PostgreSQL, then match a 1,000-package inventory.

Import: ``imagewatch.updater.sync.import_paths`` (what ``imagewatch db import``
runs) over the PyPI, Go and crates.io OSV records and every Alpine secdb
branch, into a fresh database: an embedded PostgreSQL started here in a
temporary directory, or ``IMAGEWATCH_DATABASE_URL`` (whose advisories are then
updated in place, so a second run imports nothing new).

Match: ``imagewatch.matcher.matching.match_packages`` on one connection for an
inventory of real package names and versions drawn from the advisory data
(300 Alpine v3.19 OS packages with an Alpine 3.19 OSInfo, 300 PyPI, 250 Go,
150 crates.io; every package has live candidate advisories, its version is one
the data names, so some advisories affect it and others do not). Prints the
first run (documents fetched and decoded) and the median of ``--runs`` runs
(decoded advisories cached, as in a running matcher); ``--profile`` adds a
cProfile of one run.
Run: .venv/bin/python bench/match.py [--runs N] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/secrets.py would shadow the standard library's ``secrets`` that nats-py imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from imagewatch.matcher.matching import match_packages
from imagewatch.models import OSInfo, Package
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths, load_paths
from imagewatch.versions import InvalidVersion, scheme_for

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PATHS = ["osv/PyPI", "osv/Go", "osv/crates.io", "distro/alpine-secdb"]
ALPINE = OSInfo(id="alpine", version_id="3.19.1")
MIX = {"Alpine:v3.19": 300, "PyPI": 300, "Go": 250, "crates.io": 150}


def _middle(versions: list[str], ecosystem: str) -> str | None:
    """The median of the versions the scheme can order (a version the data names)."""
    scheme = scheme_for(ecosystem)
    ok = []
    for v in dict.fromkeys(versions):
        try:
            ok.append((scheme.key(v), v))
        except InvalidVersion:
            continue
    ok.sort(key=lambda kv: kv[0])
    return ok[len(ok) // 2][1] if ok else None


def inventory(advisories) -> list[Package]:
    """MIX packages per ecosystem: real names, each at the median version its advisories name."""
    names: dict[str, dict[str, list[str]]] = {eco: {} for eco in MIX}
    for adv in advisories:
        if adv.withdrawn:
            continue
        for entry in adv.affected:
            p = entry.package
            if p is None or p.ecosystem not in MIX:
                continue
            versions = names[p.ecosystem].setdefault(p.name, [])
            versions += entry.versions
            versions += [v for r in entry.ranges if r.type != "GIT" for e in r.events
                         for v in (e.introduced, e.fixed, e.last_affected) if v and v != "0"]
    out: list[Package] = []
    for ecosystem, wanted in MIX.items():
        chosen = 0
        for name in sorted(names[ecosystem]):
            version = _middle(names[ecosystem][name], ecosystem)
            if version is None:
                continue
            if ecosystem == "Alpine:v3.19":
                out.append(Package(name=name, version=version, ecosystem="Alpine", kind="os",
                                   source_name=name, source_version=version, path="lib/apk/db/installed"))
            elif ecosystem == "Go":
                out.append(Package(name=name, version=version if name == "stdlib" else f"v{version}",
                                   ecosystem="Go", path="app/server"))
            else:
                out.append(Package(name=name, version=version, ecosystem=ecosystem, path=f"{ecosystem}/{name}"))
            chosen += 1
            if chosen == wanted:
                break
    return out


async def _bench(dsn: str, runs: int, profile: bool) -> None:
    pool = await connect_pool(dsn, 1, 4)
    paths = [SHARED / p for p in PATHS]
    start = time.perf_counter()
    results = await import_paths(pool, paths)
    took = time.perf_counter() - start
    stored = await pool.fetchval("SELECT count(*) FROM advisories")
    rows = await pool.fetchval("SELECT count(*) FROM advisory_packages")
    print(f"import all of ../shared/data: {sum(len(r.advisories) for r in results)} advisories written "
          f"({stored} stored, {rows} (ecosystem, package) rows) in {took:.1f} s")
    for r in results:
        print(f"  {r.source:14s} {len(r.advisories):6d} written, {len(r.changed):6d} packages changed")
    # what autovacuum does soon after a bulk import: lets the lookup use index-only scans
    await pool.execute("VACUUM ANALYZE advisories")
    await pool.execute("VACUUM ANALYZE advisory_packages")
    await pool.execute("VACUUM ANALYZE advisory_severities")

    packages = inventory(load_paths(paths))
    kinds = {}
    for p in packages:
        kinds[p.ecosystem] = kinds.get(p.ecosystem, 0) + 1
    async with pool.acquire() as conn:
        start = time.perf_counter()
        findings = await match_packages(conn, packages, ALPINE)
        first = time.perf_counter() - start
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            await match_packages(conn, packages, ALPINE)
            times.append(time.perf_counter() - start)
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            await match_packages(conn, packages, ALPINE)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    affected = len({(f.ecosystem, f.package) for f in findings})
    median = statistics.median(times)
    print(f"match {len(packages)} packages {kinds} (Alpine 3.19 OS) -> {len(findings)} findings on "
          f"{affected} packages: first run {first * 1000:.0f} ms, median of {runs} {median * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="cProfile one extra matching run")
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"bench/match: shared data not found at {SHARED}; skipping")
        return 0
    dsn = os.environ.get("IMAGEWATCH_DATABASE_URL")
    if dsn:
        asyncio.run(_bench(dsn, args.runs, args.profile))
        return 0
    from imagewatch.cli.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="iw-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            asyncio.run(_bench(pg.url, args.runs, args.profile))
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
