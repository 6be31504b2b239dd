"""End-of-life release cycles (endoflife.date): stored per product, looked up per product."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from imagewatch.signals.eol import EolCatalog, EolRelease
from imagewatch.store.advisories import _connection


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


async def replace_eol(conn: Any, catalog: EolCatalog) -> int:
    """Replace the cycles of each product in ``catalog``; returns the rows stored."""
    async with _connection(conn) as c:
        async with c.transaction():
            for product, releases in catalog.products.items():
                await c.execute("DELETE FROM eol_releases WHERE product = $1", product)
                await c.executemany(
                    "INSERT INTO eol_releases (product, cycle, codename, release_date, eol, eol_flag, eoes, latest)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (product, cycle) DO NOTHING",
                    [(r.product, r.cycle, r.codename, _day(r.release_date), _day(r.eol), r.eol_flag,
                      _day(r.eoes), r.latest) for r in releases])
    return sum(len(r) for r in catalog.products.values())


async def eol_releases(conn: Any, products: Iterable[str]) -> dict[str, list[EolRelease]]:
    """The stored cycles of each product asked for (absent when none are stored)."""
    wanted = sorted(set(products))
    if not wanted:
        return {}
    async with _connection(conn) as c:
        rows = await c.fetch("SELECT * FROM eol_releases WHERE product = ANY($1::text[])", wanted)
    out: dict[str, list[EolRelease]] = {}
    for r in rows:
        out.setdefault(r["product"], []).append(EolRelease(
            product=r["product"], cycle=r["cycle"], codename=r["codename"],
            release_date=r["release_date"].isoformat() if r["release_date"] else "",
            eol=r["eol"].isoformat() if r["eol"] else "", eol_flag=r["eol_flag"],
            eoes=r["eoes"].isoformat() if r["eoes"] else "", latest=r["latest"]))
    return out
