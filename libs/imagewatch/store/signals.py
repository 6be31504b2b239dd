"""CVE ratings (CVE JSON 5, NVD), the KEV catalog and EPSS scores: stored, replaced, looked up.

Ratings of one file replace that file's providers for its CVEs; the KEV
catalog and EPSS scores are replaced as a whole per import. Each writer
returns the CVE ids whose data changed, so the matcher re-rates (ratings) or
alerts on (new KEV listings) exactly the images holding them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec

from imagewatch.advisories.borrowed import Rating
from imagewatch.advisories.cverecord import CveRecordFile
from imagewatch.signals.epss import EpssScore
from imagewatch.signals.kev import KevEntry
from imagewatch.store.advisories import _connection


class Signals(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What is known about one CVE's exploitation: KEV listing (and ransomware use), EPSS."""

    kev: bool = False
    kev_date_added: str = ""
    kev_ransomware: bool = False
    epss: float | None = None
    epss_percentile: float | None = None


async def upsert_ratings(conn: Any, source: str, files: Iterable[CveRecordFile]) -> list[str]:
    """Store the ratings of CVE record / NVD files; returns the CVE ids whose ratings changed.

    A CVE record file speaks for its CNA and ADP providers, an NVD file for
    ``nvd``: their earlier rows for the file's CVEs are replaced, unless those
    came from a newer version of the record (``updated``): of two copies of
    one record, the newer wins whatever the order they are read in.
    """
    changed: set[str] = set()
    newest: dict[tuple[str, str], CveRecordFile] = {}
    for f in files:
        for vuln_id in f.ids:
            held = newest.get((vuln_id, f.kind))
            if held is None or f.updated >= held.updated:
                newest[(vuln_id, f.kind)] = f
    async with _connection(conn) as c:
        for f in {id(f): f for f in newest.values()}.values():
            if not f.ids:
                continue
            nvd = f.kind == "nvd"
            stored = await c.fetchval(
                "SELECT max(record_updated) FROM cve_ratings WHERE vuln_id = ANY($1::text[])"
                " AND (provider = 'nvd') = $2", f.ids, nvd)
            if stored and f.updated and stored > f.updated:
                continue
            async with c.transaction():
                old = await c.fetch(
                    "DELETE FROM cve_ratings WHERE vuln_id = ANY($1::text[]) AND (provider = 'nvd') = $2"
                    " RETURNING vuln_id, provider, score, rating", f.ids, nvd)
                if f.ratings:
                    await c.executemany(
                        "INSERT INTO cve_ratings (vuln_id, provider, source, score, rating, vector, record_updated)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (vuln_id, provider) DO UPDATE SET"
                        " source = EXCLUDED.source, score = EXCLUDED.score, rating = EXCLUDED.rating,"
                        " vector = EXCLUDED.vector, record_updated = EXCLUDED.record_updated, updated_at = now()",
                        [(r.vuln_id, r.provider, source, r.score, r.rating, r.vector, f.updated)
                         for r in f.ratings])
            before = {(r["vuln_id"], r["provider"], r["score"], r["rating"]) for r in old}
            after = {(r.vuln_id, r.provider, r.score, r.rating) for r in f.ratings}
            changed.update(v for v, *_ in before ^ after)
    return sorted(changed)


async def cve_ratings(conn: Any, vuln_ids: Iterable[str]) -> dict[str, list[Rating]]:
    """Ratings stored for each CVE id, as (provider, score, rating); ids without any are absent."""
    wanted = sorted({i for i in vuln_ids if i.startswith("CVE-")})
    if not wanted:
        return {}
    async with _connection(conn) as c:
        rows = await c.fetch("SELECT vuln_id, provider, score, rating FROM cve_ratings"
                             " WHERE vuln_id = ANY($1::text[])", wanted)
    out: dict[str, list[Rating]] = {}
    for r in rows:
        out.setdefault(r["vuln_id"], []).append((r["provider"], r["score"], r["rating"]))
    return out


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


async def replace_kev(conn: Any, entries: list[KevEntry]) -> tuple[list[str], int]:
    """Replace the KEV catalog: (CVE ids newly listed, entries stored)."""
    async with _connection(conn) as c:
        async with c.transaction():
            before = {r["cve"] for r in await c.fetch("SELECT cve FROM kev_entries")}
            latest = {e.cve: e for e in entries}
            await c.execute("DELETE FROM kev_entries WHERE NOT (cve = ANY($1::text[]))", list(latest))
            await c.executemany(
                "INSERT INTO kev_entries (cve, date_added, due_date, ransomware, name) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (cve) DO UPDATE SET date_added = EXCLUDED.date_added, due_date = EXCLUDED.due_date,"
                " ransomware = EXCLUDED.ransomware, name = EXCLUDED.name",
                [(e.cve, _day(e.date_added), _day(e.due_date), e.ransomware, e.name) for e in latest.values()])
    return sorted(set(latest) - before), len(latest)


async def replace_epss(conn: Any, scores: list[EpssScore], score_date: str = "") -> int:
    """Store EPSS scores (latest wins per CVE); returns the rows written."""
    if not scores:
        return 0
    latest = {s.cve: s for s in scores}
    day = _day(score_date)
    async with _connection(conn) as c:
        async with c.transaction():
            await c.execute("CREATE TEMP TABLE epss_in (cve text, probability float8, percentile float8)"
                            " ON COMMIT DROP")
            await c.copy_records_to_table("epss_in", records=[(s.cve, s.probability, s.percentile)
                                                              for s in latest.values()])
            await c.execute(
                "INSERT INTO epss_scores (cve, probability, percentile, score_date)"
                " SELECT cve, probability, percentile, $1 FROM epss_in ON CONFLICT (cve) DO UPDATE SET"
                " probability = EXCLUDED.probability, percentile = EXCLUDED.percentile,"
                " score_date = EXCLUDED.score_date", day)
    return len(latest)


async def signals_for(conn: Any, vuln_ids: Iterable[str]) -> dict[str, Signals]:
    """KEV and EPSS data for each CVE id that has any; others are absent."""
    wanted = sorted({i for i in vuln_ids if i.startswith("CVE-")})
    if not wanted:
        return {}
    async with _connection(conn) as c:
        kev = await c.fetch("SELECT cve, date_added, ransomware FROM kev_entries WHERE cve = ANY($1::text[])",
                            wanted)
        epss = await c.fetch("SELECT cve, probability, percentile FROM epss_scores WHERE cve = ANY($1::text[])",
                             wanted)
    out: dict[str, Signals] = {}
    for r in kev:
        out[r["cve"]] = Signals(kev=True, kev_ransomware=r["ransomware"],
                                kev_date_added=r["date_added"].isoformat() if r["date_added"] else "")
    for r in epss:
        s = out.get(r["cve"]) or Signals()
        out[r["cve"]] = msgspec.structs.replace(s, epss=r["probability"], epss_percentile=r["percentile"])
    return out


async def counts(conn: Any) -> dict[str, int]:
    """Rows held per table: ``cve_ratings``, ``kev_entries``, ``epss_scores``."""
    async with _connection(conn) as c:
        return {t: await c.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608 - fixed names
                for t in ("cve_ratings", "kev_entries", "epss_scores")}
