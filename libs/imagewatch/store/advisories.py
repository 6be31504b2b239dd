"""The advisory store: OSV documents, their (ecosystem, package) index, source status.

Functions take an asyncpg connection or pool and work whether or not the
connection has JSON codecs (documents travel as text). An update rewrites only
records whose content changed (``modified`` is part of the content; secdb
records have none, so the content digest decides), and reports the
(ecosystem, name) pairs whose advisories changed, before and after, so the
matcher can re-match exactly the images holding them.
"""

from __future__ import annotations

import hashlib
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Iterable

import msgspec

from ..advisories.index import package_keys
from ..advisories.model import Advisory
from ..advisories.names import normalise_name
from ..versions import base_ecosystem

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
    their package rows, so they stop matching. Each batch is one transaction.
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
                changed_ids += ids
    return changed_pairs, changed_ids


async def advisories_for(conn: Any, ecosystem: str, names: Iterable[str]) -> dict[str, list[Advisory]]:
    """Live advisories naming each package in ``ecosystem`` (or its release-less base).

    ``names`` are as the inventory has them; they are normalised for the lookup
    and the result is keyed by the names given. Names without advisories are absent.
    """
    wanted: dict[str, list[str]] = {}
    for name in names:
        wanted.setdefault(normalise_name(ecosystem, name), []).append(name)
    if not wanted:
        return {}
    ecosystems = list(dict.fromkeys([ecosystem, base_ecosystem(ecosystem)]))
    async with _connection(conn) as c:
        rows = await c.fetch(
            "SELECT p.name, a.id, a.doc::text AS doc FROM advisory_packages p"
            " JOIN advisories a ON a.id = p.advisory_id"
            " WHERE p.ecosystem = ANY($1::text[]) AND p.name = ANY($2::text[]) AND a.withdrawn = ''",
            ecosystems, list(wanted))
    decoded: dict[str, Advisory] = {}
    out: dict[str, list[Advisory]] = {}
    for r in rows:
        adv = decoded.get(r["id"])
        if adv is None:
            adv = decoded[r["id"]] = _DECODER.decode(r["doc"])
        for original in wanted[r["name"]]:
            found = out.setdefault(original, [])
            if all(a.id != adv.id for a in found):
                found.append(adv)
    return out


async def get_advisory(conn: Any, advisory_id: str) -> Advisory | None:
    """One stored advisory by id (withdrawn ones too), or None."""
    async with _connection(conn) as c:
        doc = await c.fetchval("SELECT doc::text FROM advisories WHERE id = $1", advisory_id)
    return None if doc is None else _DECODER.decode(doc)


async def record_sync(conn: Any, source: str, fingerprint: str, records: int | None = None) -> None:
    """Remember a finished sync of ``source``; ``records`` defaults to its stored count."""
    async with _connection(conn) as c:
        if records is None:
            records = await c.fetchval("SELECT count(*) FROM advisories WHERE source = $1", source)
        await c.execute(
            "INSERT INTO advisory_sources (name, fingerprint, last_sync, records) VALUES ($1, $2, now(), $3)"
            " ON CONFLICT (name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
            " last_sync = EXCLUDED.last_sync, records = EXCLUDED.records",
            source, fingerprint, records)


async def source_status(conn: Any, source: str | None = None) -> list[SourceStatus]:
    """Every source's (or one source's) fingerprint, last sync time and record count."""
    async with _connection(conn) as c:
        rows = await c.fetch(
            "SELECT name, fingerprint, last_sync, records FROM advisory_sources"
            " WHERE $1::text IS NULL OR name = $1 ORDER BY name", source)
    return [SourceStatus(**dict(r)) for r in rows]
