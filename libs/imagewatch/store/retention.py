"""Retention: which tags and images to check against their registry, marking them, and pruning.

An image is *gone* when no tag points at it and its digest is no longer
served in any repository it was seen in (``images.gone_at``); it is deleted,
with every row that hangs off it, once it has been gone for the configured
time. Tags and images are checked oldest check first, in bounded batches.
History rows (scan failures, re-match records, delivered notifications,
Harbor scan requests, admission sightings) age out by their own time.
Every delete runs in batches of bounded size so that no statement holds locks
on a large part of a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import asyncpg


@dataclass(frozen=True)
class TagToCheck:
    """A current tag row: the registry should still serve ``registry/repository:tag``."""

    registry: str
    repository: str
    tag: str
    platform: str
    digest: str
    index_digest: str


@dataclass(frozen=True)
class ImageToCheck:
    """An image no tag points at: the digest to ask for (its index's when it came from one) per repository."""

    digest: str
    reference_digest: str
    repositories: tuple[tuple[str, str], ...]


@dataclass
class PruneResult:
    """What one prune removed, per kind of row."""

    deleted: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        """Count ``n`` more rows of ``what``."""
        self.deleted[what] = self.deleted.get(what, 0) + n


async def try_lock(conn: asyncpg.Connection) -> bool:
    """Take the retention lock for this session (one pass at a time across replicas); False when held."""
    return await conn.fetchval("SELECT pg_try_advisory_lock(hashtext('imagewatch'), hashtext('retention'))")


async def unlock(conn: asyncpg.Connection) -> None:
    """Release the retention lock taken by :func:`try_lock` on this connection."""
    await conn.execute("SELECT pg_advisory_unlock(hashtext('imagewatch'), hashtext('retention'))")


async def tags_to_check(conn: asyncpg.Connection, limit: int) -> list[TagToCheck]:
    """Up to ``limit`` tag rows, never checked first, then the longest unchecked."""
    rows = await conn.fetch(
        """SELECT registry, repository, tag, platform, digest, index_digest FROM image_tags
           ORDER BY checked_at NULLS FIRST LIMIT $1""", limit)
    return [TagToCheck(r["registry"], r["repository"], r["tag"], r["platform"], r["digest"], r["index_digest"])
            for r in rows]


async def images_to_check(conn: asyncpg.Connection, limit: int) -> list[ImageToCheck]:
    """Up to ``limit`` images not marked gone that no tag points at, longest unchecked first."""
    rows = await conn.fetch(
        """SELECT i.digest, i.index_digest,
                  array(SELECT ARRAY[r.registry, r.repository] FROM image_repositories r
                        WHERE r.digest = i.digest ORDER BY 1) AS repositories
           FROM images i
           WHERE i.gone_at IS NULL AND NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.digest = i.digest)
           ORDER BY i.checked_at NULLS FIRST LIMIT $1""", limit)
    return [ImageToCheck(r["digest"], r["index_digest"] or r["digest"],
                         tuple((reg, repo) for reg, repo in r["repositories"])) for r in rows]


async def tag_checked(conn: asyncpg.Connection, tag: TagToCheck) -> None:
    """The registry still serves the tag (at whatever digest): stamp the check."""
    await conn.execute(
        """UPDATE image_tags SET checked_at = now()
           WHERE registry = $1 AND repository = $2 AND tag = $3 AND platform = $4""",
        tag.registry, tag.repository, tag.tag, tag.platform)


async def drop_tag(conn: asyncpg.Connection, tag: TagToCheck) -> bool:
    """The registry answered that the tag does not exist: forget it (unless a push moved it meanwhile).

    Its new/fixed delta and what was alerted for it go too, so the tag pushed
    again is a new tag. Returns whether the row was still there.
    """
    async with conn.transaction():
        gone = await conn.fetchval(
            """DELETE FROM image_tags WHERE registry = $1 AND repository = $2 AND tag = $3 AND platform = $4
                 AND digest = $5 RETURNING 1""",
            tag.registry, tag.repository, tag.tag, tag.platform, tag.digest)
        if not gone:
            return False
        if not await conn.fetchval("SELECT 1 FROM image_tags WHERE registry = $1 AND repository = $2 AND tag = $3",
                                   tag.registry, tag.repository, tag.tag):
            for table in ("tag_results", "notifier_state"):
                await conn.execute(f"DELETE FROM {table} WHERE registry = $1 AND repository = $2 AND tag = $3",
                                   tag.registry, tag.repository, tag.tag)
    return True


async def mark_images(conn: asyncpg.Connection, served: list[str], gone: list[str]) -> None:
    """Stamp the check on ``served`` images (clearing a gone mark) and mark ``gone`` ones gone.

    An image a tag points at again (pushed since it was picked) is never marked gone.
    """
    await conn.execute(
        "UPDATE images SET checked_at = now(), gone_at = NULL WHERE digest = ANY($1::text[])", served)
    await conn.execute(
        """UPDATE images i SET checked_at = now(), gone_at = coalesce(i.gone_at, now())
           WHERE i.digest = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.digest = i.digest)""",
        gone)


async def gone_images(conn: asyncpg.Connection) -> list[tuple[str, datetime]]:
    """(digest, gone since) of every image marked gone."""
    rows = await conn.fetch("SELECT digest, gone_at FROM images WHERE gone_at IS NOT NULL ORDER BY gone_at")
    return [(r["digest"], r["gone_at"]) for r in rows]


def _cutoff(days: float, now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=days)


async def _prune_gone(conn: asyncpg.Connection, cutoff: datetime, batch: int, result: PruneResult) -> None:
    """Delete images gone before ``cutoff`` (foreign keys cascade) and what refers to them without one."""
    while True:
        async with conn.transaction():
            doomed = [r["digest"] for r in await conn.fetch(
                """SELECT digest FROM images WHERE gone_at < $1 ORDER BY gone_at LIMIT $2
                   FOR UPDATE SKIP LOCKED""", cutoff, batch)]
            if not doomed:
                return
            layers = [r["layer_digest"] for r in await conn.fetch(
                "SELECT DISTINCT layer_digest FROM image_layers WHERE image_digest = ANY($1::text[])", doomed)]
            for table, column, extra in (("notifier_outbox", "image_digest", "AND state <> 'pending'"),
                                         ("notifier_inputs", "image_digest", ""),
                                         ("harbor_scans", "digest", ""), ("admission_seen", "digest", "")):
                status = await conn.execute(
                    f"DELETE FROM {table} WHERE {column} = ANY($1::text[]) {extra}", doomed)
                result.add(table, int(status.split()[-1]))
            status = await conn.execute("DELETE FROM images WHERE digest = ANY($1::text[])", doomed)
            result.add("images", int(status.split()[-1]))
            await _prune_layers(conn, layers, result)
        if len(doomed) < batch:
            return


async def _prune_layers(conn: asyncpg.Connection, digests: list[str], result: PruneResult) -> None:
    """Delete the layers among ``digests`` no image holds any more, and their per-layer results."""
    rows = await conn.fetch(
        """DELETE FROM layers l WHERE l.digest = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM image_layers il WHERE il.layer_digest = l.digest)
           RETURNING l.digest, l.diff_id""", digests)
    result.add("layers", len(rows))
    diff_ids = [r["diff_id"] for r in rows]
    # a diff_id may still be held under another blob digest (another compression of the same tar)
    orphans = [r["d"] for r in await conn.fetch(
        """SELECT d FROM unnest($1::text[]) AS d
           WHERE NOT EXISTS (SELECT 1 FROM image_layers il WHERE il.diff_id = d)""", diff_ids)]
    for table in ("layer_results", "layer_secret_results", "layer_scans", "layer_errors"):
        status = await conn.execute(f"DELETE FROM {table} WHERE diff_id = ANY($1::text[])", orphans)
        result.add(table, int(status.split()[-1]))
    status = await conn.execute("DELETE FROM layer_verified WHERE digest = ANY($1::text[])",
                                [r["digest"] for r in rows])
    result.add("layer_verified", int(status.split()[-1]))


HISTORY = (
    ("scan_failures", "failed_at", ""),
    ("matcher_rematches", "matched_at", ""),
    ("notifier_outbox", "created_at", "AND state <> 'pending'"),
    ("harbor_scans", "requested_at", ""),
    ("admission_seen", "last_seen", ""),
    # a tag's past image goes once its successor too is older than the window (the dashboard's
    # trend still needs the image a tag pointed at when the window opens), or once the image is gone
    ("tag_history", "since",
     """AND (NOT EXISTS (SELECT 1 FROM images i WHERE i.digest = tag_history.digest)
             OR EXISTS (SELECT 1 FROM tag_history n
                        WHERE (n.registry, n.repository, n.tag, n.platform)
                              = (tag_history.registry, tag_history.repository, tag_history.tag, tag_history.platform)
                          AND n.since > tag_history.since AND n.since < $1))"""),
)
"""History tables aged out by time: (table, time column, extra condition)."""


async def _prune_history(conn: asyncpg.Connection, cutoff: datetime, batch: int, result: PruneResult) -> None:
    for table, column, extra in HISTORY:
        while True:
            status = await conn.execute(
                f"""DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                      SELECT ctid FROM {table} WHERE {column} < $1 {extra} LIMIT $2))""", cutoff, batch)
            n = int(status.split()[-1])
            result.add(table, n)
            if n < batch:
                break


async def prune(conn: asyncpg.Connection, *, gone_after_days: float, history_days: float, batch: int = 5000,
                now: datetime | None = None) -> PruneResult:
    """Delete images gone for ``gone_after_days`` and history older than ``history_days`` (0: keep).

    Images not marked gone (served, or not checked yet) are never deleted.
    """
    result = PruneResult()
    if gone_after_days > 0:
        await _prune_gone(conn, _cutoff(gone_after_days, now), max(1, batch), result)
    if history_days > 0:
        await _prune_history(conn, _cutoff(history_days, now), max(1, batch), result)
    return result
