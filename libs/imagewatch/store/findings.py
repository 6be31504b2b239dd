"""Vulnerability findings per image and the new/fixed delta per repository tag."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from ..models import SEVERITY_ORDER, Finding


def finding_key(f: Finding) -> str:
    """The identity of a finding within one image."""
    return f"{f.advisory_id}|{f.ecosystem}|{f.package}|{f.version}"


async def replace_findings(conn: asyncpg.Connection, digest: str, findings: list[Finding]) -> tuple[list[str], list[str]]:
    """Store an image's findings (keeping first_seen of those already known).

    Returns (added advisory ids, removed advisory ids) relative to what was stored
    for this image before.
    """
    async with conn.transaction():
        before = {r["advisory_id"] for r in await conn.fetch(
            "SELECT advisory_id FROM findings WHERE image_digest = $1", digest)}
        keys = [finding_key(f) for f in findings]
        await conn.execute("DELETE FROM findings WHERE image_digest = $1 AND NOT (key = ANY($2::text[]))",
                           digest, keys)
        await conn.executemany(
            """INSERT INTO findings (image_digest, key, advisory_id, ids, ecosystem, package, version,
                                     fixed_versions, severity, score, finding)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (image_digest, key) DO UPDATE SET ids = EXCLUDED.ids,
                 fixed_versions = EXCLUDED.fixed_versions, severity = EXCLUDED.severity,
                 score = EXCLUDED.score, finding = EXCLUDED.finding""",
            [(digest, k, f.advisory_id, f.ids or [f.advisory_id], f.ecosystem, f.package, f.version,
              f.fixed_versions, f.severity, f.score, msgspec.to_builtins(f)) for k, f in zip(keys, findings)],
        )
    after = {f.advisory_id for f in findings}
    return sorted(after - before), sorted(before - after)


async def image_findings(conn: asyncpg.Connection, digest: str, *, severity: list[str] | None = None,
                         fixable: bool | None = None) -> list[Finding]:
    """An image's findings, most severe first, optionally filtered."""
    rows = await conn.fetch(
        """SELECT finding FROM findings WHERE image_digest = $1
             AND ($2::text[] IS NULL OR severity = ANY($2::text[]))
             AND ($3::bool IS NULL OR (cardinality(fixed_versions) > 0) = $3)""",
        digest, severity, fixable,
    )
    out = [msgspec.convert(r["finding"], Finding) for r in rows]
    out.sort(key=lambda f: (-SEVERITY_ORDER.get(f.severity, 0), -(f.score or 0), f.advisory_id, f.package))
    return out


async def advisory_ids(conn: asyncpg.Connection, digest: str | None) -> set[str]:
    """The advisory ids found in an image (empty when ``digest`` is None)."""
    if not digest:
        return set()
    return {r["advisory_id"] for r in await conn.fetch(
        "SELECT advisory_id FROM findings WHERE image_digest = $1", digest)}


async def record_tag_result(conn: asyncpg.Connection, *, registry: str, repository: str, tag: str,
                            platform: str, digest: str, previous: str | None,
                            new_ids: list[str], fixed_ids: list[str]) -> None:
    """What is new and fixed in a tag's current image relative to its previous one."""
    await conn.execute(
        """INSERT INTO tag_results (registry, repository, tag, platform, digest, previous, new_ids, fixed_ids)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (registry, repository, tag, platform) DO UPDATE SET digest = EXCLUDED.digest,
             previous = EXCLUDED.previous, new_ids = EXCLUDED.new_ids, fixed_ids = EXCLUDED.fixed_ids,
             computed_at = now()""",
        registry, repository, tag, platform, digest, previous, new_ids, fixed_ids,
    )


async def findings_by_id(conn: asyncpg.Connection, vuln_id: str, limit: int = 500,
                         after: str | None = None) -> list[dict[str, Any]]:
    """Images having a finding known under ``vuln_id`` (a CVE, GHSA, OSV id), with where."""
    rows = await conn.fetch(
        """SELECT f.image_digest, f.finding, f.first_seen,
                  coalesce(array_agg(DISTINCT r.registry || '/' || r.repository)
                           FILTER (WHERE r.repository IS NOT NULL), '{}') AS repositories
           FROM findings f LEFT JOIN image_repositories r ON r.digest = f.image_digest
           WHERE $1 = ANY(f.ids) AND ($3::text IS NULL OR f.image_digest > $3)
           GROUP BY f.image_digest, f.key, f.finding, f.first_seen
           ORDER BY f.image_digest LIMIT $2""",
        vuln_id, limit, after,
    )
    return [{"image_digest": r["image_digest"], "repositories": sorted(r["repositories"]),
             "first_seen": r["first_seen"].isoformat(), "finding": r["finding"]} for r in rows]
