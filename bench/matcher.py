"""Benchmark: parse the shared OSV data (PyPI, Go, crates.io) and match inventories.

Prints advisories parsed per second and packages matched per second (median of
repeated runs over a 1,000-package inventory whose packages all have advisories,
at versions taken from the advisories' own events, so most are affected).
Run: .venv/bin/python bench/matcher.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from imagewatch.advisories import AdvisoryIndex, load_path
from imagewatch.models import Package

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FOLDERS = {"PyPI": "osv/PyPI", "Go": "osv/Go", "crates.io": "osv/crates.io"}
RUNS = 7


def inventory(index_advisories: list, size: int = 1000) -> list[Package]:
    """Distinct (ecosystem, name) packages at a version named by one of their advisories."""
    seen: dict[tuple[str, str], Package] = {}
    for adv in index_advisories:
        for entry in adv.affected:
            p = entry.package
            if p is None or (p.ecosystem, p.name) in seen:
                continue
            versions = [v for r in entry.ranges for e in r.events
                        for v in (e.introduced, e.fixed) if v and v != "0"]
            if versions:
                seen[(p.ecosystem, p.name)] = Package(name=p.name, version=versions[0], ecosystem=p.ecosystem)
            if len(seen) >= size:
                return list(seen.values())
    return list(seen.values())


def main() -> int:
    if not SHARED.exists():
        print(f"bench/matcher: shared data not found at {SHARED}; skipping")
        return 0
    advisories = []
    for eco, folder in FOLDERS.items():
        start = time.perf_counter()
        loaded = list(load_path(SHARED / folder))
        took = time.perf_counter() - start
        advisories += loaded
        print(f"parse {eco:10s} {len(loaded):6d} advisories in {took:6.2f} s = {len(loaded) / took:8.0f}/s")
    start = time.perf_counter()
    index = AdvisoryIndex(advisories)
    print(f"index {index.count} advisories in {time.perf_counter() - start:.2f} s")

    packages = inventory(advisories)
    cold = time.perf_counter()
    findings = index.match(packages)
    cold = time.perf_counter() - cold
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        index.match(packages)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"match {len(packages)} packages -> {len(findings)} findings: first run {cold * 1000:.1f} ms, "
          f"median of {RUNS} {median * 1000:.1f} ms = {len(packages) / median:.0f} packages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
