"""Aggregates for the metrics read from PostgreSQL: the fleet's findings and the outbox backlog."""

from __future__ import annotations

import asyncpg

_CURRENT = "SELECT DISTINCT digest FROM image_tags"


async def fleet_findings(conn: asyncpg.Connection) -> tuple[dict[tuple[str, str], int], int]:
    """Findings of the current image of every tag by (severity, kind), and how many such images."""
    rows = await conn.fetch(
        f"""WITH current AS ({_CURRENT})
            SELECT severity, 'vulnerability' AS kind, count(*) AS n
              FROM findings WHERE image_digest IN (SELECT digest FROM current) GROUP BY severity
            UNION ALL
            SELECT severity, kind, count(*) AS n
              FROM secret_findings WHERE image_digest IN (SELECT digest FROM current) GROUP BY severity, kind""")
    images = await conn.fetchval(f"SELECT count(*) FROM ({_CURRENT}) c")
    return {(r["severity"], r["kind"]): r["n"] for r in rows}, images


async def outbox_backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Notifications waiting in the outbox and the age in seconds of the oldest (0 when none)."""
    row = await conn.fetchrow(
        """SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS age
           FROM notifier_outbox WHERE state = 'pending'""")
    return row["n"], float(row["age"])
