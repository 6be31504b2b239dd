"""Which advisory data an image was checked against: per OS release and ecosystem, sources, records, age.

An image's OS release and each language ecosystem it holds packages of is
looked up in the advisory store: how many records name that ecosystem (the
release's own, ``Alpine:v3.22``, for OS packages), from which sources, and
when those were last synced. One with no records is ``not covered``: its
findings list is empty because nothing was checked, not because it is clean,
and a warning says so wherever results are shown.
"""

from __future__ import annotations

from typing import Any

import msgspec

from imagewatch.ecosystems.catalog import base_ecosystem, ecosystem_and_release, os_ecosystem
from imagewatch.models import OSInfo, Package
from imagewatch.store.advisories import advisory_version, ecosystem_coverage


class CoverageEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One OS release or ecosystem of an image and the data it was matched against.

    ``kind`` is ``os`` or ``lang``; ``ecosystem`` the OSV ecosystem looked up
    (``Debian:12``, ``PyPI``); ``last_sync`` the newest sync (RFC 3339) of its
    ``sources``; ``covered`` false when no record names it.
    """

    kind: str
    ecosystem: str
    packages: int = 0
    records: int = 0
    sources: list[str] = []
    last_sync: str = ""
    covered: bool = False


class Coverage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An image's coverage: one entry per OS release and ecosystem, and the warnings to show."""

    entries: list[CoverageEntry] = []
    warnings: list[str] = []

    @property
    def not_covered(self) -> list[CoverageEntry]:
        """The entries no advisory data covers."""
        return [e for e in self.entries if not e.covered]


def _wanted(packages: list[Package], os: OSInfo | None) -> tuple[dict[str, tuple[str, int]], list[str]]:
    wanted: dict[str, tuple[str, int]] = {}
    warnings = []
    os_packages = sum(1 for p in packages if p.kind == "os")
    if os is not None and os_ecosystem(os):
        wanted[ecosystem_and_release(os)] = ("os", os_packages)
    elif os is not None:
        warnings.append(f"not covered: no advisory source for OS {os.pretty_name or os.id} ({os.id})")
    elif os_packages:
        warnings.append(f"not covered: {os_packages} OS packages but no OS release detected")
    for p in packages:
        if p.kind == "lang":
            eco = base_ecosystem(p.ecosystem)
            kind, n = wanted.get(eco, ("lang", 0))
            wanted[eco] = (kind, n + 1)
    return wanted, warnings


class CoverageMemo:
    """Per-ecosystem counts of the advisory store, remembered while its change counter stays the same.

    Counting the records of an ecosystem reads all of them (tens of
    milliseconds for PyPI or npm), and the answer is the same for every image
    until the store changes: the matcher service keeps one memo per process.
    The counter is read before the counts, so a change committed in between
    can only make a remembered answer newer than its key, never older.
    """

    MAX_KEYS = 1024

    def __init__(self) -> None:
        self.version: int | None = None
        self.found: dict[tuple[str, ...], dict] = {}

    async def counts(self, conn: Any, ecosystems: list[str]) -> dict:
        """``ecosystem_coverage`` for ``ecosystems``, from memory while the store is unchanged."""
        version = await advisory_version(conn)
        if version != self.version or len(self.found) >= self.MAX_KEYS:
            self.version, self.found = version, {}
        key = tuple(ecosystems)
        if key not in self.found:
            self.found[key] = await ecosystem_coverage(conn, ecosystems)
        return self.found[key]


async def coverage_of(conn: Any, packages: list[Package], os: OSInfo | None,
                      memo: CoverageMemo | None = None) -> Coverage:
    """The coverage of an image's packages by the advisory store in ``conn`` (through ``memo`` when given)."""
    wanted, warnings = _wanted(packages, os)
    ecosystems = sorted({*wanted, *map(base_ecosystem, wanted)})
    found = await memo.counts(conn, ecosystems) if memo is not None else await ecosystem_coverage(conn, ecosystems)
    entries = []
    for eco, (kind, n) in wanted.items():
        records, sources, last_sync = found.get(eco, (0, [], None))
        if eco != base_ecosystem(eco) and base_ecosystem(eco) in found:  # records for every release
            more, more_sources, more_sync = found[base_ecosystem(eco)]
            records, sources = records + more, sorted({*sources, *more_sources})
            last_sync = max(filter(None, (last_sync, more_sync)), default=None)
        entry = CoverageEntry(kind=kind, ecosystem=eco, packages=n, records=records, sources=sources,
                              last_sync=last_sync.isoformat() if last_sync else "", covered=records > 0)
        entries.append(entry)
        if not entry.covered:
            what = "OS release" if kind == "os" else "ecosystem"
            warnings.append(f"not covered: no advisory data for {what} {eco} ({n} packages not checked); "
                            "import or sync a source for it")
    return Coverage(entries=entries, warnings=warnings)
