"""The advisory store: OSV documents, their (ecosystem, package) index, source status.

Functions take an asyncpg connection or pool and work whether or not the
connection has JSON codecs (documents travel as text). An update rewrites only
records whose content changed (``modified`` is part of the content; secdb
records have none, so the content digest decides), and reports the
(ecosystem, name) pairs whose advisories changed, before and after, so the
matcher can re-match exactly the images holding them. Each live advisory's
known severity is kept under its id and every alias (``advisory_severities``)
for findings from records that carry none.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Iterable

import msgspec

from imagewatch.advisories.borrowed import Known, severity_rows
from imagewatch.advisories.index import package_keys
from imagewatch.advisories.model import Advisory
from imagewatch.advisories.names import normalise_name
from imagewatch.versions import base_ecosystem

BATCH = 2000
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Advisory)


class SourceStatus(msgspec.Struct, kw_only=True):
    """One advisory source as last synced."""

    name: str
    fingerprint: str
    last_sync: datetime | None
    records: int


@asynccontextmanager
async def _connection(conn: Any) -> AsyncIterator[Any]:
    if hasattr(conn, "acquire") and not hasattr(conn, "transaction"):
        async with conn.acquire() as c:
            yield c
    else:
        yield conn


def _batches(items: Iterable[Advisory]) -> Iterable[list[Advisory]]:
    batch: list[Advisory] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def upsert_advisories(conn: Any, source: str, advisories: Iterable[Advisory],
                            ) -> tuple[set[tuple[str, str]], list[str]]:
    """Store advisories from ``source``: (changed (ecosystem, name) pairs, changed ids).

    Unchanged records are not written. A changed record's old and new package
    pairs both count as changed; withdrawn records keep their document but lose
    their package rows, so they stop matching, and their severity rows. Each
    batch is one transaction.
    """
    changed_pairs: set[tuple[str, str]] = set()
    changed_ids: list[str] = []
    async with _connection(conn) as c:
        for batch in _batches(advisories):
            latest = {a.id: a for a in batch}
            docs = {i: _ENCODER.encode(a) for i, a in latest.items()}
            digests = {i: hashlib.sha256(d).digest() for i, d in docs.items()}
            async with c.transaction():
                rows = await c.fetch("SELECT id, digest FROM advisories WHERE id = ANY($1::text[])", list(latest))
                stored = {r["id"]: bytes(r["digest"]) for r in rows}
                ids = [i for i in latest if stored.get(i) != digests[i]]
                if not ids:
                    continue
                old = await c.fetch(
                    "DELETE FROM advisory_packages WHERE advisory_id = ANY($1::text[]) RETURNING ecosystem, name",
                    ids)
                changed_pairs.update((r["ecosystem"], r["name"]) for r in old)
                await c.executemany(
                    "INSERT INTO advisories (id, modified, withdrawn, source, digest, doc)"
                    " VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)"
                    " ON CONFLICT (id) DO UPDATE SET modified = EXCLUDED.modified,"
                    " withdrawn = EXCLUDED.withdrawn, source = EXCLUDED.source,"
                    " digest = EXCLUDED.digest, doc = EXCLUDED.doc, updated_at = now()",
                    [(i, latest[i].modified, latest[i].withdrawn, source, digests[i], docs[i].decode())
                     for i in ids])
                eco, names, adv_ids = [], [], []
                for i in ids:
                    pairs = package_keys(latest[i])
                    changed_pairs.update(pairs)
                    if latest[i].withdrawn:
                        continue
                    for e, n in pairs:
                        eco.append(e)
                        names.append(n)
                        adv_ids.append(i)
                if eco:
                    await c.execute(
                        "INSERT INTO advisory_packages (ecosystem, name, advisory_id)"
                        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
                        eco, names, adv_ids)
                await _replace_severities(c, ids, [latest[i] for i in ids])
                await c.execute(_BUMP_VERSION)
                changed_ids += ids
    return changed_pairs, changed_ids


async def _replace_severities(c: Any, ids: list[str], advisories: Iterable[Advisory]) -> int:
    await c.execute("DELETE FROM advisory_severities WHERE advisory_id = ANY($1::text[])", ids)
    rows = [r for a in advisories for r in severity_rows(a)]
    if rows:
        await c.execute(
            "INSERT INTO advisory_severities (vuln_id, advisory_id, score, rating)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[]) ON CONFLICT DO NOTHING",
            *map(list, zip(*rows)))
    return len(rows)


async def backfill_severities(conn: Any) -> int:
    """Rebuild ``advisory_severities`` for every stored advisory; returns the rows written.

    For a store written before migration 0010 (``upsert_advisories`` keeps it
    current afterwards, but skips unchanged records). One transaction per batch.
    """
    written, after = 0, ""
    async with _connection(conn) as c:
        while True:
            docs = await c.fetch("SELECT id, doc::text AS doc FROM advisories WHERE id > $1 ORDER BY id LIMIT $2",
                                 after, BATCH)
            if not docs:
                return written
            advisories = [_DECODER.decode(d["doc"]) for d in docs]
            async with c.transaction():
                written += await _replace_severities(c, [d["id"] for d in docs], advisories)
            after = docs[-1]["id"]


async def known_severities(conn: Any, vuln_ids: Iterable[str]) -> dict[str, list[Known]]:
    """Severities of live advisories naming each id, as (advisory id, score, rating); ids without any are absent."""
    wanted = list(dict.fromkeys(vuln_ids))
    if not wanted:
        return {}
    async with _connection(conn) as c:
        rows = await c.fetch("SELECT s.vuln_id, s.advisory_id, s.score, s.rating FROM unnest($1::text[]) AS w(id)"
                             " JOIN advisory_severities s ON s.vuln_id = w.id", wanted)
    out: dict[str, list[Known]] = {}
    for r in rows:
        out.setdefault(r["vuln_id"], []).append((r["advisory_id"], r["score"], r["rating"]))
    return out


class DecodedCache:
    """Decoded advisory documents by id, each valid while the stored digest is the one it was decoded from.

    Matching decodes the same popular advisories for every image; keeping them
    saves the decoding and, more, fetching the documents at all. Holds at most
    ``size`` advisories, dropping the least recently used.
    """

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[bytes, Advisory]] = OrderedDict()

    def get(self, advisory_id: str, digest: bytes) -> Advisory | None:
        """The advisory decoded from the document with ``digest``, or None."""
        item = self._items.get(advisory_id)
        if item is None or item[0] != digest:
            return None
        self._items.move_to_end(advisory_id)
        return item[1]

    def put(self, advisory_id: str, digest: bytes, advisory: Advisory) -> None:
        """Remember one decoded advisory."""
        self._items[advisory_id] = (digest, advisory)
        self._items.move_to_end(advisory_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()


DECODED = DecodedCache()


async def advisories_for(conn: Any, ecosystem: str, names: Iterable[str]) -> dict[str, list[Advisory]]:
    """Live advisories naming each package in ``ecosystem`` (or its release-less base).

    ``names`` are as the inventory has them; they are normalised for the lookup
    and the result is keyed by the names given. Names without advisories are absent.
    Documents already decoded (``DECODED``, checked by digest) are not fetched again.
    """
    wanted: dict[str, list[str]] = {}
    for name in names:
        wanted.setdefault(normalise_name(ecosystem, name), []).append(name)
    if not wanted:
        return {}
    ecosystems = list(dict.fromkeys([ecosystem, base_ecosystem(ecosystem)]))
    async with _connection(conn) as c:
        rows = await c.fetch(
            "SELECT a.id, a.digest, array_agg(DISTINCT p.name) AS names FROM advisory_packages p"
            " JOIN advisories a ON a.id = p.advisory_id"
            " WHERE p.ecosystem = ANY($1::text[]) AND p.name = ANY($2::text[]) AND a.withdrawn = ''"
            " GROUP BY a.id", ecosystems, list(wanted))
        decoded: dict[str, Advisory] = {}
        missing = []
        for r in rows:
            adv = DECODED.get(r["id"], r["digest"])
            if adv is None:
                missing.append(r["id"])
            else:
                decoded[r["id"]] = adv
        if missing:
            docs = await c.fetch("SELECT id, digest, doc::text AS doc FROM advisories WHERE id = ANY($1::text[])",
                                 missing)
            for d in docs:
                adv = decoded[d["id"]] = _DECODER.decode(d["doc"])
                DECODED.put(d["id"], d["digest"], adv)
    out: dict[str, list[Advisory]] = {}
    for r in rows:
        adv = decoded.get(r["id"])
        if adv is None:  # deleted between the two queries
            continue
        for name in r["names"]:
            for original in wanted[name]:
                out.setdefault(original, []).append(adv)
    return out


class PgAdvisories:
    """The PostgreSQL advisory store as an ``AdvisoryLookup`` (``conn`` is a pool or a connection)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def advisories_for(self, ecosystem: str, names: Iterable[str]) -> dict[str, list[Advisory]]:
        """See ``advisories_for``."""
        return await advisories_for(self.conn, ecosystem, names)

    async def known_severities(self, vuln_ids: Iterable[str]) -> dict[str, list[Known]]:
        """See ``known_severities``."""
        return await known_severities(self.conn, vuln_ids)

    async def cve_ratings(self, vuln_ids: Iterable[str]) -> dict[str, list[tuple[str, float | None, str]]]:
        """See ``imagewatch.store.signals.cve_ratings``."""
        from imagewatch.store import signals  # signals builds on this module's connection helper

        return await signals.cve_ratings(self.conn, vuln_ids)


_EXPORT_CHILDREN = {
    "advisory_packages": "SELECT advisory_id, ecosystem, name FROM advisory_packages"
                         " WHERE advisory_id > $1 AND advisory_id <= $2 ORDER BY advisory_id",
    "advisory_severities": "SELECT advisory_id, vuln_id, score, rating FROM advisory_severities"
                           " WHERE advisory_id > $1 AND advisory_id <= $2 ORDER BY advisory_id",
}


async def export_rows(conn: Any, batch: int = BATCH) -> AsyncIterator[tuple[str, list[tuple]]]:
    """Every row the portable database needs, in batches: (table, rows).

    Tables: ``advisories`` (id, source, modified, withdrawn, doc text; all
    records, withdrawn ones too), ``advisory_packages`` (advisory id,
    ecosystem, name), ``advisory_severities`` (advisory id, vuln id, score,
    rating), then ``advisory_sources`` (name, fingerprint, last sync, records).
    One read-only repeatable-read transaction, so the tables agree.
    """
    async with _connection(conn) as c:
        async with c.transaction(isolation="repeatable_read", readonly=True):
            after = ""
            while True:
                rows = await c.fetch("SELECT id, source, modified, withdrawn, doc::text AS doc FROM advisories"
                                     " WHERE id > $1 ORDER BY id LIMIT $2", after, batch)
                if not rows:
                    break
                last = rows[-1]["id"]
                yield "advisories", [tuple(r) for r in rows]
                for table, sql in _EXPORT_CHILDREN.items():
                    children = await c.fetch(sql, after, last)
                    if children:
                        yield table, [tuple(r) for r in children]
                after = last
            rows = await c.fetch("SELECT name, fingerprint, last_sync, records FROM advisory_sources ORDER BY name")
            yield "advisory_sources", [tuple(r) for r in rows]


async def get_advisory(conn: Any, advisory_id: str) -> Advisory | None:
    """One stored advisory by id (withdrawn ones too), or None."""
    async with _connection(conn) as c:
        doc = await c.fetchval("SELECT doc::text FROM advisories WHERE id = $1", advisory_id)
    return None if doc is None else _DECODER.decode(doc)


async def get_advisories(conn: Any, advisory_ids: Iterable[str]) -> dict[str, Advisory]:
    """Stored advisories by id (withdrawn ones too), in one query; ids not stored are absent."""
    async with _connection(conn) as c:
        rows = await c.fetch("SELECT id, doc::text AS doc FROM advisories WHERE id = ANY($1::text[])",
                             sorted(set(advisory_ids)))
    return {r["id"]: _DECODER.decode(r["doc"]) for r in rows}


async def record_sync(conn: Any, source: str, fingerprint: str, records: int | None = None) -> None:
    """Remember a finished sync of ``source``; ``records`` defaults to its stored count."""
    async with _connection(conn) as c:
        if records is None:
            records = await c.fetchval("SELECT count(*) FROM advisories WHERE source = $1", source)
        async with c.transaction():
            await c.execute(
                "INSERT INTO advisory_sources (name, fingerprint, last_sync, records) VALUES ($1, $2, now(), $3)"
                " ON CONFLICT (name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
                " last_sync = EXCLUDED.last_sync, records = EXCLUDED.records",
                source, fingerprint, records)
            await c.execute(_BUMP_VERSION)


async def source_status(conn: Any, source: str | None = None) -> list[SourceStatus]:
    """Every source's (or one source's) fingerprint, last sync time and record count."""
    async with _connection(conn) as c:
        rows = await c.fetch(
            "SELECT name, fingerprint, last_sync, records FROM advisory_sources"
            " WHERE $1::text IS NULL OR name = $1 ORDER BY name", source)
    return [SourceStatus(**dict(r)) for r in rows]


async def has_advisories(conn: Any) -> bool:
    """Whether the advisory store holds at least one advisory (withdrawn ones count); pool or connection."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM advisories)"))


async def live_advisory_count(conn: Any) -> int:
    """How many stored advisories are not withdrawn; ``conn`` is a pool or a connection."""
    return await conn.fetchval("SELECT count(*) FROM advisories WHERE withdrawn = ''")


_BUMP_VERSION = "UPDATE advisory_store_version SET version = version + 1"


async def advisory_version(conn: Any) -> int:
    """The advisory store's change counter (migration 0020_c): it moves in the transaction of every change."""
    async with _connection(conn) as c:
        return await c.fetchval("SELECT version FROM advisory_store_version")


async def ecosystem_coverage(conn: Any, ecosystems: list[str]) -> dict[str, tuple[int, list[str], datetime | None]]:
    """Per ecosystem as stored (``Debian:12``, ``PyPI``): (live records, their sources, newest sync of those)."""
    if not ecosystems:
        return {}
    async with _connection(conn) as c:
        rows = await c.fetch(
            "SELECT p.ecosystem, count(DISTINCT p.advisory_id) AS n, array_agg(DISTINCT a.source) AS sources,"
            " max(s.last_sync) AS last_sync FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id"
            " LEFT JOIN advisory_sources s ON s.name = a.source"
            " WHERE p.ecosystem = ANY($1::text[]) AND a.withdrawn = '' GROUP BY p.ecosystem", ecosystems)
    return {r["ecosystem"]: (r["n"], sorted(r["sources"]), r["last_sync"]) for r in rows}
