"""Harbor scan requests: record, look up, fail; and the image state a report is read from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class HarborScan:
    """One scan request Harbor made: the artifact, when it was asked for, and a fetch error if any."""

    id: str
    registry: str
    repository: str
    digest: str
    tag: str
    mime_type: str
    requested_at: datetime
    error: str | None


async def record_scan(conn: asyncpg.Connection, *, scan_id: str, registry: str, repository: str,
                      digest: str, tag: str, mime_type: str) -> None:
    """Remember a new scan request."""
    await conn.execute(
        """INSERT INTO harbor_scans (id, registry, repository, digest, tag, mime_type)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        scan_id, registry, repository, digest, tag, mime_type)


async def get_scan(conn: asyncpg.Connection, scan_id: str) -> HarborScan | None:
    """A scan request by id, or None."""
    row = await conn.fetchrow(
        """SELECT id, registry, repository, digest, tag, mime_type, requested_at, error
           FROM harbor_scans WHERE id = $1""", scan_id)
    return None if row is None else HarborScan(**dict(row))


async def fail_scan(conn: asyncpg.Connection, scan_id: str, error: str) -> None:
    """Mark a scan request failed (its fetch was given up) with the reason."""
    await conn.execute(
        "UPDATE harbor_scans SET error = $2, failed_at = now() WHERE id = $1 AND error IS NULL",
        scan_id, error)


async def stages_since(conn: asyncpg.Connection, digest: str, since: datetime) -> dict[str, tuple[str, str | None]]:
    """The stages of ``digest`` that finished at or after ``since``: stage → (state, reason)."""
    rows = await conn.fetch(
        """SELECT stage, state, reason FROM scan_stages
           WHERE image_digest = $1 AND finished_at >= $2 AND state IN ('done', 'failed')""",
        digest, since)
    return {r["stage"]: (r["state"], r["reason"]) for r in rows}
