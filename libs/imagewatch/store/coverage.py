"""Per image coverage (``matcher.coverage.Coverage``): record at match time and read back."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from imagewatch.matcher.coverage import Coverage


async def save_coverage(conn: asyncpg.Connection, digest: str, coverage: Coverage) -> None:
    """Replace the stored coverage of an image (idempotent)."""
    await conn.execute(
        """INSERT INTO image_coverage (image_digest, coverage, not_covered) VALUES ($1, $2, $3)
           ON CONFLICT (image_digest) DO UPDATE SET coverage = EXCLUDED.coverage,
                  not_covered = EXCLUDED.not_covered, computed_at = now()""",
        digest, msgspec.to_builtins(coverage), [e.ecosystem for e in coverage.not_covered])


async def image_coverage(conn: asyncpg.Connection, digest: str) -> Coverage | None:
    """The stored coverage of an image, or None before its first match."""
    raw: Any = await conn.fetchval("SELECT coverage FROM image_coverage WHERE image_digest = $1", digest)
    return None if raw is None else msgspec.convert(raw, Coverage)
