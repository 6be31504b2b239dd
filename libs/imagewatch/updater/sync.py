"""Keeping the advisory store current: run a source, import files, announce what changed.

A run fetches a source with its stored fingerprint; ``Unchanged`` only
refreshes the last-sync time. Otherwise the payload is parsed into the store
(only changed records are written), the sync is recorded, and the changed
(ecosystem, package) pairs are published on ``iw.vulndb`` so that matchers
re-match the images holding them. Sources run one instance at a time across
processes: each run holds a PostgreSQL advisory lock on a dedicated connection.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from imagewatch.advisories import Advisory
from imagewatch.advisories.cverecord import CveRecordFile
from imagewatch.advisories.load import Record, load_records
from imagewatch.advisories.malicious import PREFIX as MALICIOUS_PREFIX
from imagewatch.advisories.malicious import SOURCE as MALICIOUS_SOURCE
from imagewatch.advisories.sources import Source, SourceError, Unchanged, discard
from imagewatch.advisories.sources.catalog import default_sources
from imagewatch.ecosystems.debian.tracker import SOURCE as DEBIAN_TRACKER
from imagewatch.messages import SUBJECT_VULNDB, PackageKey, VulnDBChanged
from imagewatch.store.advisories import record_sync, source_status, upsert_advisories
from imagewatch.store.db import advisory_unlock, try_advisory_lock
from imagewatch.store.signals import replace_epss, replace_kev, upsert_ratings
from imagewatch.signals.epss import EpssFile
from imagewatch.signals.eol import EolCatalog
from imagewatch.signals.kev import KevCatalog
from imagewatch.store.eol import replace_eol
from imagewatch.versions import base_ecosystem

LOCK_NAMESPACE = 0x69777570  # "iwup"
PAIRS_PER_MESSAGE = 1000
IDS_PER_MESSAGE = 5000
_BUFFER = 2000


class SyncResult(msgspec.Struct, kw_only=True):
    """What one source run (or one import) did.

    ``state`` is ``changed``, ``unchanged`` (nothing new upstream, or nothing
    changed in the store), ``skipped`` (another process holds the source) or
    ``failed`` (``error`` says why).
    """

    source: str
    state: str
    update_id: str = ""
    changed: list[tuple[str, str]] = []
    advisories: list[str] = []
    rated: list[str] = []
    exploited: list[str] = []
    records: int = 0
    fingerprint: str = ""
    published: int = 0
    error: str = ""


def new_update_id(source: str) -> str:
    """A unique id for one update of one source."""
    return f"{source}@{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


def select_sources(names: Iterable[str] = (), available: dict[str, Source] | None = None) -> list[Source]:
    """The sources named (all default sources when none); an unknown name raises ValueError."""
    available = default_sources() if available is None else available
    names = list(names)
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"updater: unknown source(s) {', '.join(unknown)}; known: {', '.join(available)}")
    return [available[n] for n in names]


def messages_for(update_id: str, source: str, pairs: Iterable[tuple[str, str]],
                 ids: Iterable[str], rated: Iterable[str] = (), exploited: Iterable[str] = ()) -> list[VulnDBChanged]:
    """The ``iw.vulndb`` messages announcing one update, split so each stays small."""
    pairs, ids, rated, exploited = sorted(pairs), sorted(ids), sorted(rated), sorted(exploited)
    count = max(1, -(-len(pairs) // PAIRS_PER_MESSAGE),
                *(-(-len(x) // IDS_PER_MESSAGE) for x in (ids, rated, exploited)))
    out = []
    for i in range(count):
        part = update_id if count == 1 else f"{update_id}.{i}"
        window = slice(i * IDS_PER_MESSAGE, (i + 1) * IDS_PER_MESSAGE)
        out.append(VulnDBChanged(
            update_id=part, source=source,
            changed=[PackageKey(ecosystem=e, name=n)
                     for e, n in pairs[i * PAIRS_PER_MESSAGE:(i + 1) * PAIRS_PER_MESSAGE]],
            advisories=ids[window], rated=rated[window], exploited=exploited[window]))
    return out


async def announce(bus: Any, result: SyncResult) -> int:
    """Publish a changed result on ``iw.vulndb``; returns the number of messages."""
    if bus is None or result.state != "changed" or not (result.changed or result.rated or result.exploited):
        return 0
    messages = messages_for(result.update_id, result.source, result.changed, result.advisories,
                            result.rated, result.exploited)
    for msg in messages:
        await bus.publish(SUBJECT_VULNDB, msg, msg_id=f"vulndb:{msg.update_id}")
    return len(messages)


async def run_source(pool: Any, source: Source, session: Any, bus: Any = None) -> SyncResult:
    """Fetch one source with its stored fingerprint, store what changed and announce it.

    Raises nothing for a source that cannot be fetched: the result is
    ``failed`` with the source's error (``... (offline?)`` when unreachable).
    """
    status = await source_status(pool, source.name)
    old = status[0].fingerprint if status else ""
    try:
        data, fingerprint = await source.fetch(session, old or None)
    except Unchanged:
        await record_sync(pool, source.name, old, status[0].records if status else None)
        return SyncResult(source=source.name, state="unchanged", fingerprint=old)
    except SourceError as exc:
        return SyncResult(source=source.name, state="failed", error=str(exc))
    if getattr(source, "signals", False):
        return await _run_signals(pool, source, data, fingerprint, bus)
    try:
        pairs, ids = await upsert_advisories(pool, source.name, source.parse(data))
    except (SourceError, ValueError, OSError) as exc:
        return SyncResult(source=source.name, state="failed", error=f"{source.name}: {exc}")
    finally:
        discard(data)
    await record_sync(pool, source.name, fingerprint)
    result = SyncResult(source=source.name, state="changed" if ids else "unchanged",
                        update_id=new_update_id(source.name), changed=sorted(pairs),
                        advisories=sorted(ids), fingerprint=fingerprint)
    result.published = await announce(bus, result)
    return result


async def _run_signals(pool: Any, source: Source, data: bytes | Path, fingerprint: str, bus: Any) -> SyncResult:
    """Store a signal source's payload (KEV, EPSS, end-of-life dates) as ``import_paths`` stores the same file."""
    try:
        records = list(source.parse(data))
    except (SourceError, ValueError, OSError) as exc:
        return SyncResult(source=source.name, state="failed", error=f"{source.name}: {exc}")
    finally:
        discard(data)
    results = await store_signals(pool, records, bus, fingerprint)
    result = next((r for r in results if r.source == source.name), None)
    if result is None:
        return SyncResult(source=source.name, state="failed",
                          error=f"{source.name}: the payload held no {source.name} records")
    result.fingerprint = fingerprint
    return result


def _lock_key(name: str) -> int:
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


async def run_sources(pool: Any, sources: Iterable[Source], session: Any, bus: Any = None) -> list[SyncResult]:
    """Run each source unless another process is running it (``skipped``).

    The lock of a source is held on one dedicated connection for the whole run.
    """
    results = []
    async with pool.acquire() as lock_conn:
        for source in sources:
            key = _lock_key(source.name)
            if not await try_advisory_lock(lock_conn, LOCK_NAMESPACE, key):
                results.append(SyncResult(source=source.name, state="skipped",
                                          error=f"{source.name}: another updater is running it"))
                continue
            try:
                results.append(await run_source(pool, source, session, bus))
            finally:
                await advisory_unlock(lock_conn, LOCK_NAMESPACE, key)
    return results


def source_name_of(advisory: Advisory) -> str:
    """The source an imported advisory belongs to: ``alpine-secdb``, ``debian-tracker``, ``ossf-malicious`` (``MAL-`` ids), else ``osv:<ecosystem>``."""
    origin = (advisory.database_specific or {}).get("source")
    if origin == "alpine-secdb":
        return "alpine-secdb"
    if origin == DEBIAN_TRACKER:
        return "debian-tracker"
    if advisory.id.startswith(MALICIOUS_PREFIX):
        return MALICIOUS_SOURCE
    for entry in advisory.affected:
        if entry.package is not None and entry.package.ecosystem:
            return f"osv:{base_ecosystem(entry.package.ecosystem)}"
    return "import"


def load_paths(paths: Iterable[str | Path]) -> Iterator[Record]:
    """Records of every kind from every path given; Alpine secdb files are merged across all of them."""
    return load_records(paths)


async def store_signals(pool: Any, records: Iterable[Record], bus: Any = None,
                        fingerprint: str = "") -> list[SyncResult]:
    """Store CVE ratings, a KEV catalog or EPSS scores, record each source's sync, announce what changed.

    Sources: ``cve`` (CVE JSON 5), ``nvd``, ``kev``, ``epss``. A changed rating
    is announced in ``rated`` (re-rate), a new KEV listing in ``exploited``.
    """
    ratings: dict[str, list[CveRecordFile]] = {}
    kev: KevCatalog | None = None
    epss: list[EpssFile] = []
    eol: list[EolCatalog] = []
    for r in records:
        if isinstance(r, CveRecordFile):
            ratings.setdefault(r.kind, []).append(r)
        elif isinstance(r, KevCatalog):
            kev = r if kev is None or r.version >= kev.version else kev
        elif isinstance(r, EpssFile):
            epss.append(r)
        elif isinstance(r, EolCatalog):
            eol.append(r)
    results = []
    for kind, files in sorted(ratings.items()):
        rated = await upsert_ratings(pool, kind, files)
        count = sum(len(f.ratings) for f in files)
        await record_sync(pool, kind, fingerprint, count)
        results.append(SyncResult(source=kind, state="changed" if rated else "unchanged",
                                  update_id=new_update_id(kind), rated=rated, records=count))
    if kev is not None:
        added, count = await replace_kev(pool, kev.entries)
        await record_sync(pool, "kev", fingerprint or kev.version, count)
        results.append(SyncResult(source="kev", state="changed" if added else "unchanged",
                                  update_id=new_update_id("kev"), exploited=added, records=count,
                                  fingerprint=kev.version))
    if epss:
        scores = [s for f in epss for s in f.scores]
        day = max((f.score_date for f in epss), default="")
        count = await replace_epss(pool, scores, day)
        await record_sync(pool, "epss", fingerprint or day, count)
        results.append(SyncResult(source="epss", state="changed", update_id=new_update_id("epss"),
                                  records=count))
    if eol:
        count = await replace_eol(pool, EolCatalog(products={p: r for c in eol for p, r in c.products.items()}))
        await record_sync(pool, "endoflife", fingerprint, count)
        results.append(SyncResult(source="endoflife", state="changed", update_id=new_update_id("endoflife"),
                                  records=count))
    for result in results:
        result.published = await announce(bus, result)
    return results


async def import_paths(pool: Any, paths: Iterable[str | Path], bus: Any = None) -> list[SyncResult]:
    """Import advisories, CVE ratings, KEV and EPSS from files and directories offline, per source.

    Each source's last sync is recorded with an empty fingerprint, so the next
    ``sync`` downloads it in full. Raises AdvisoryError or FileNotFoundError
    for unreadable input (what was stored before stays stored).
    """
    buffers: dict[str, list[Advisory]] = {}
    changed: dict[str, tuple[set[tuple[str, str]], list[str]]] = {}
    others: list[Record] = []

    async def flush(name: str) -> None:
        pairs, ids = await upsert_advisories(pool, name, buffers.pop(name, []))
        acc = changed.setdefault(name, (set(), []))
        acc[0].update(pairs)
        acc[1].extend(ids)

    for record in load_paths(paths):
        if not isinstance(record, Advisory):
            others.append(record)
            continue
        name = source_name_of(record)
        buffers.setdefault(name, []).append(record)
        if len(buffers[name]) >= _BUFFER:
            await flush(name)
    for name in list(buffers):
        await flush(name)
    results = []
    for name, (pairs, ids) in sorted(changed.items()):
        await record_sync(pool, name, "")
        result = SyncResult(source=name, state="changed" if ids else "unchanged",
                            update_id=new_update_id(name), changed=sorted(pairs), advisories=sorted(ids))
        result.published = await announce(bus, result)
        results.append(result)
    return results + await store_signals(pool, others, bus)
