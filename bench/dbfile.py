"""Benchmark: the portable database file (``store.dbfile``) on real advisories, no server.

Builds the file straight from ``shared/data`` (PyPI and Go OSV, crates.io,
the Debian slice, Alpine secdb v3.19 main), the rows the store would export,
then times: writing it, opening it with the content-digest check (what every
scan does), opening without the check, and one lookup per ecosystem for a
typical image's packages, plus zstd compression (what ``db push`` ships).

Run: .venv/bin/python bench/dbfile.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import zstandard

from imagewatch.advisories.borrowed import severity_rows
from imagewatch.advisories.index import package_keys
from imagewatch.advisories.model import encode_json
from imagewatch.store.dbfile import DbFile, write_dbfile
from imagewatch.updater.sync import load_paths

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PATHS = [SHARED / "osv" / "PyPI", SHARED / "osv" / "Go", SHARED / "osv" / "crates.io", SHARED / "debian" / "osv",
         SHARED / "distro" / "alpine-secdb" / "v3.19" / "main.json"]


async def _rows(advisories):
    yield "advisories", [(a.id, "bench", a.modified, a.withdrawn, encode_json(a)) for a in advisories]
    yield "advisory_packages", [(a.id, e, n) for a in advisories if not a.withdrawn for e, n in package_keys(a)]
    yield "advisory_severities", [(a.id, v, s, r) for a in advisories for v, _i, s, r in severity_rows(a)]
    yield "advisory_sources", [("bench", "", None, len(advisories))]


def _median(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    if not SHARED.exists():
        print(f"bench/dbfile: shared data not found at {SHARED}; skipping")
        return 0
    advisories = list({a.id: a for a in load_paths([p for p in PATHS if p.exists()])}.values())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "imagewatch.db"
        t = time.perf_counter()
        meta = asyncio.run(write_dbfile(path, _rows(advisories)))
        write = time.perf_counter() - t
        size = path.stat().st_size
        verified = _median(lambda: DbFile.open(path).close())
        unverified = _median(lambda: DbFile.open(path, verify=False).close())
        db = DbFile.open(path)
        names = ["django", "urllib3", "requests", "jinja2", "flask", "pyyaml", "cryptography", "pillow"]

        def lookups():
            db._decoded.clear()
            asyncio.run(db.advisories_for("PyPI", names))
            asyncio.run(db.advisories_for("Go", ["golang.org/x/net", "stdlib", "github.com/gin-gonic/gin"]))
        lookup = _median(lookups)
        t = time.perf_counter()
        compressed = zstandard.ZstdCompressor(level=10).compress(path.read_bytes())
        zstd = time.perf_counter() - t
        print(f"advisories {meta.counts['advisories']}, packages rows {meta.counts['advisory_packages']}, "
              f"severity rows {meta.counts['advisory_severities']}")
        print(f"file {size / 1e6:.1f} MB, zstd-10 {len(compressed) / 1e6:.1f} MB ({zstd:.2f} s)")
        print(f"write {write:.2f} s; open+verify {verified * 1000:.0f} ms; open without verify "
              f"{unverified * 1000:.1f} ms; 11 package lookups, cold decode {lookup * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
