"""Images, tags, layers and per-stage status: record and query.

Every write is an idempotent upsert keyed by digests, so a redelivered message
repeats no visible effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from imagewatch.models import LayerRef

STAGES = ("fetcher", "inventory", "matcher", "secrets", "notifier")


async def record_image(
    conn: asyncpg.Connection, *, digest: str, registry: str, repository: str, media_type: str,
    platform: str, config_digest: str, config: dict | None, index_digest: str,
    layers: list[LayerRef], tag: str = "",
) -> None:
    """Record a platform image, its repository, tag and layers (idempotent)."""
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO images (digest, media_type, platform, config_digest, config, index_digest)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (digest) DO UPDATE SET last_seen = now(), gone_at = NULL,
                 index_digest = CASE WHEN EXCLUDED.index_digest <> '' THEN EXCLUDED.index_digest
                                     ELSE images.index_digest END""",
            digest, media_type, platform, config_digest, config, index_digest,
        )
        await conn.execute(
            """INSERT INTO image_repositories (digest, registry, repository) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            digest, registry, repository,
        )
        await conn.executemany(
            """INSERT INTO layers (digest, diff_id, size, media_type) VALUES ($1, $2, $3, $4)
               ON CONFLICT (digest) DO NOTHING""",
            [(layer.digest, layer.diff_id, layer.size, layer.media_type) for layer in layers],
        )
        await conn.executemany(
            """INSERT INTO image_layers (image_digest, position, layer_digest, diff_id)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            [(digest, i, layer.digest, layer.diff_id) for i, layer in enumerate(layers)],
        )
        if tag:
            await conn.execute(
                """INSERT INTO image_tags (registry, repository, tag, platform, digest, index_digest)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (registry, repository, tag, platform) DO UPDATE SET
                     previous_digest = CASE WHEN image_tags.digest <> EXCLUDED.digest
                                            THEN image_tags.digest ELSE image_tags.previous_digest END,
                     digest = EXCLUDED.digest, index_digest = EXCLUDED.index_digest,
                     updated_at = now()""",
                registry, repository, tag, platform, digest, index_digest,
            )


async def image_exists(conn: asyncpg.Connection, digest: str) -> bool:
    """Whether ``digest`` is a known (recorded) platform image."""
    return await conn.fetchval("SELECT 1 FROM images WHERE digest = $1", digest) is not None


async def set_stage(conn: asyncpg.Connection, digest: str, stage: str, state: str,
                    reason: str | None = None, problems: Sequence[str] = ()) -> None:
    """Move an image's stage to ``state``; ``running`` stamps the start, done/failed the end.

    ``running`` again (a redelivered message taking the stage over) counts
    one more attempt and restarts the heartbeat. ``problems`` (what a finished
    stage could not read) replace the stage's earlier ones; a stage done with
    problems makes the scan ``partial``.
    """
    await conn.execute(
        """INSERT INTO scan_stages (image_digest, stage, state, started_at, finished_at, reason, attempts,
                                    heartbeat_at, problems)
           VALUES ($1, $2, $3,
                   CASE WHEN $3 = 'running' THEN now() END,
                   CASE WHEN $3 IN ('done', 'failed') THEN now() END,
                   $4, CASE WHEN $3 = 'running' THEN 1 ELSE 0 END,
                   CASE WHEN $3 = 'running' THEN now() END, $5)
           ON CONFLICT (image_digest, stage) DO UPDATE SET
             state = EXCLUDED.state,
             started_at = CASE WHEN EXCLUDED.state = 'running' THEN now()
                               WHEN EXCLUDED.state = 'pending' THEN NULL
                               ELSE scan_stages.started_at END,
             heartbeat_at = CASE WHEN EXCLUDED.state = 'running' THEN now() ELSE scan_stages.heartbeat_at END,
             finished_at = CASE WHEN EXCLUDED.state IN ('done', 'failed') THEN now() ELSE NULL END,
             reason = EXCLUDED.reason,
             attempts = scan_stages.attempts + CASE WHEN EXCLUDED.state = 'running' THEN 1 ELSE 0 END,
             problems = EXCLUDED.problems,
             updated_at = now()""",
        digest, stage, state, reason, list(problems),
    )


async def heartbeat_stages(conn: asyncpg.Connection, digests: list[str], stage: str) -> None:
    """Stamp a heartbeat on ``stage`` of each image in ``digests`` that is running it."""
    await conn.execute(
        """UPDATE scan_stages SET heartbeat_at = now()
           WHERE image_digest = ANY($1::text[]) AND stage = $2 AND state = 'running'""",
        digests, stage,
    )


async def init_stages(conn: asyncpg.Connection, digest: str, stages: tuple[str, ...] = STAGES[1:]) -> None:
    """Mark downstream stages pending for a newly fetched image (keeps finished ones)."""
    await conn.executemany(
        """INSERT INTO scan_stages (image_digest, stage, state) VALUES ($1, $2, 'pending')
           ON CONFLICT DO NOTHING""",
        [(digest, s) for s in stages],
    )


async def record_failure(conn: asyncpg.Connection, reference: str, stage: str, reason: str) -> None:
    """Record a failure for a reference that never became a known image."""
    await conn.execute(
        "INSERT INTO scan_failures (reference, stage, reason) VALUES ($1, $2, $3)", reference, stage, reason,
    )


async def register_stage_version(conn: asyncpg.Connection, stage: str, version: str) -> None:
    """Declare the scanner version a stage runs; layers it has not scanned get fetched again."""
    await conn.execute(
        """INSERT INTO stage_versions (stage, version) VALUES ($1, $2)
           ON CONFLICT (stage) DO UPDATE SET version = EXCLUDED.version, updated_at = now()""",
        stage, version,
    )


async def mark_layer_scanned(conn: asyncpg.Connection, diff_id: str, stage: str, version: str) -> None:
    """Record that ``stage`` at ``version`` has analysed the layer."""
    await conn.execute(
        "INSERT INTO layer_scans (diff_id, stage, version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        diff_id, stage, version,
    )


async def mark_layer_verified(conn: asyncpg.Connection, digest: str, diff_id: str) -> None:
    """Record that blob ``digest`` was read and its content hashed to ``diff_id``."""
    await conn.execute(
        "INSERT INTO layer_verified (digest, diff_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", digest, diff_id)


async def layer_verified(conn: asyncpg.Connection, digest: str, diff_id: str) -> bool:
    """Whether blob ``digest`` was read and found to hash to ``diff_id``."""
    return await conn.fetchval(
        "SELECT 1 FROM layer_verified WHERE digest = $1 AND diff_id = $2", digest, diff_id) is not None


async def layers_needing_scan(conn: asyncpg.Connection, layers: list[tuple[str, str]]) -> set[str]:
    """The blob digests among (digest, diff_id) pairs that must be fetched for analysis.

    A layer is skipped only when a stage verified that this blob holds that
    diff_id and every registered stage has analysed the diff_id at its current
    version: an unverified claim never skips a download.
    """
    rows = await conn.fetch(
        """SELECT d.digest FROM unnest($1::text[], $2::text[]) AS d(digest, diff_id)
           WHERE NOT EXISTS (SELECT 1 FROM stage_versions)
              OR NOT EXISTS (SELECT 1 FROM layer_verified w WHERE w.digest = d.digest AND w.diff_id = d.diff_id)
              OR EXISTS (SELECT 1 FROM stage_versions v WHERE NOT EXISTS (
                   SELECT 1 FROM layer_scans s
                   WHERE s.diff_id = d.diff_id AND s.stage = v.stage AND s.version = v.version))""",
        [digest for digest, _ in layers], [diff_id for _, diff_id in layers],
    )
    return {r["digest"] for r in rows}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


STALL_DEADLINE = 30.0
"""Seconds without a heartbeat after which a running stage shows ``stalled`` (``bus.stall_deadline``)."""


async def stages_of(conn: asyncpg.Connection, digest: str,
                    stall_deadline: float = STALL_DEADLINE) -> dict[str, dict[str, Any]]:
    """Status of every stage for an image, keyed by stage name.

    A ``running`` stage whose last heartbeat (or start) is older than
    ``stall_deadline`` seconds shows ``stalled``: the worker handling it died
    or hangs; its message is redelivered and the next attempt takes it over.
    """
    rows = await conn.fetch(
        """SELECT *, state = 'running'
                     AND coalesce(heartbeat_at, started_at, updated_at) < now() - make_interval(secs => $2)
                     AS stalled
           FROM scan_stages WHERE image_digest = $1""", digest, float(stall_deadline))
    out: dict[str, dict[str, Any]] = {s: {"state": "pending"} for s in STAGES}
    for r in rows:
        seconds = None
        if r["started_at"] and r["finished_at"]:
            seconds = round((r["finished_at"] - r["started_at"]).total_seconds(), 3)
        item = {"state": "stalled" if r["stalled"] else r["state"], "started_at": _iso(r["started_at"]),
                "finished_at": _iso(r["finished_at"]), "seconds": seconds, "attempts": r["attempts"]}
        if r["state"] == "running" or r["stalled"]:
            item["heartbeat_at"] = _iso(r["heartbeat_at"])
        if r["reason"]:
            item["reason"] = r["reason"]
        if r["problems"]:
            item["partial"] = True
            item["problems"] = list(r["problems"])
        out[r["stage"]] = item
    return out


def scan_status(stages: dict[str, dict[str, Any]]) -> str:
    """The image's scan as one word: ``failed``, ``stalled``, ``running``, ``pending``, ``partial`` or ``complete``.

    ``partial``: every stage finished but one could not read everything (its
    ``problems``), so the result may miss packages or findings.
    """
    states = {s["state"] for s in stages.values()}
    for word in ("failed", "stalled", "running", "pending"):
        if word in states:
            return word
    return "partial" if any(s.get("problems") for s in stages.values()) else "complete"


async def list_images(conn: asyncpg.Connection, repository: str | None = None, tag: str | None = None,
                      limit: int = 100, after: str | None = None, *, severity: list[str] | None = None,
                      fixable: bool | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
    """Images in digest order, optionally filtered; ``after`` is a digest cursor.

    ``severity`` and ``fixable`` keep images having at least one finding of
    those severities / with (or without) a fixed version; ``since`` keeps
    images first seen at or after that time. The cursor is repeated on each
    joined table so that a deep page starts every index scan at the cursor.
    """
    rows = await conn.fetch(
        """SELECT i.digest, i.media_type, i.platform, i.index_digest, i.first_seen, i.last_seen,
                  array_agg(DISTINCT r.registry || '/' || r.repository) AS repositories,
                  coalesce(array_agg(DISTINCT t.tag) FILTER (WHERE t.tag IS NOT NULL), '{}') AS tags
           FROM images i
           JOIN image_repositories r ON r.digest = i.digest AND ($3::text IS NULL OR r.digest > $3)
           LEFT JOIN image_tags t ON t.digest = i.digest AND ($3::text IS NULL OR t.digest > $3)
           WHERE ($1::text IS NULL OR r.repository = $1 OR r.registry || '/' || r.repository = $1)
             AND ($2::text IS NULL OR t.tag = $2)
             AND ($3::text IS NULL OR i.digest > $3)
             AND ($5::timestamptz IS NULL OR i.first_seen >= $5)
             AND (($6::text[] IS NULL AND $7::bool IS NULL) OR EXISTS (
                   SELECT 1 FROM findings f WHERE f.image_digest = i.digest
                     AND ($6::text[] IS NULL OR f.severity = ANY($6::text[]))
                     AND ($7::bool IS NULL OR (cardinality(f.fixed_versions) > 0) = $7)))
           GROUP BY i.digest
           ORDER BY i.digest
           LIMIT $4""",
        repository, tag, after, limit, since, severity, fixable,
    )
    return [
        {"digest": r["digest"], "media_type": r["media_type"], "platform": r["platform"],
         "index_digest": r["index_digest"] or None, "repositories": sorted(r["repositories"]),
         "tags": sorted(r["tags"]), "first_seen": _iso(r["first_seen"]), "last_seen": _iso(r["last_seen"])}
        for r in rows
    ]


async def get_image(conn: asyncpg.Connection, digest: str,
                    stall_deadline: float = STALL_DEADLINE) -> dict[str, Any] | None:
    """One image with repositories, tags, platform, config, layers and stage status."""
    row = await conn.fetchrow("SELECT * FROM images WHERE digest = $1", digest)
    if row is None:
        return None
    repos = await conn.fetch(
        "SELECT registry, repository FROM image_repositories WHERE digest = $1 ORDER BY 1, 2", digest)
    tags = await conn.fetch(
        "SELECT registry, repository, tag, platform, index_digest, updated_at FROM image_tags "
        "WHERE digest = $1 ORDER BY 1, 2, 3", digest)
    layers = await conn.fetch(
        """SELECT il.position, l.digest, l.diff_id, l.size, l.media_type
           FROM image_layers il JOIN layers l ON l.digest = il.layer_digest
           WHERE il.image_digest = $1 ORDER BY il.position""", digest)
    return {
        "digest": row["digest"], "media_type": row["media_type"], "platform": row["platform"],
        "config_digest": row["config_digest"], "config": row["config"],
        "index_digest": row["index_digest"] or None, "os": row["os"],
        "first_seen": _iso(row["first_seen"]), "last_seen": _iso(row["last_seen"]),
        "repositories": [f"{r['registry']}/{r['repository']}" for r in repos],
        "tags": [{"registry": t["registry"], "repository": t["repository"], "tag": t["tag"],
                  "platform": t["platform"], "index_digest": t["index_digest"] or None,
                  "updated_at": _iso(t["updated_at"])} for t in tags],
        "layers": [{"position": r["position"], "digest": r["digest"], "diff_id": r["diff_id"],
                    "size": r["size"], "media_type": r["media_type"]} for r in layers],
        "stages": (stages := await stages_of(conn, digest, stall_deadline)),
        "scan_status": scan_status(stages),
        "problems": [f"{name}: {line}" for name, st in stages.items() for line in st.get("problems", [])],
    }


_PLATFORM_MATCH = "(platform = $P OR platform LIKE $P || '/%' OR platform = '')"
_PLATFORM_RANK = "(platform = $P) DESC, (platform LIKE $P || '/%') DESC"


async def resolve_tag(conn: asyncpg.Connection, registry: str, repository: str, tag: str,
                      platform: str) -> str | None:
    """The digest a tag currently points at for ``platform`` (``os/arch``), if scanned."""
    where = _PLATFORM_MATCH.replace("$P", "$4")
    order = _PLATFORM_RANK.replace("$P", "$4")
    return await conn.fetchval(
        f"""SELECT digest FROM image_tags WHERE registry = $1 AND repository = $2 AND tag = $3
              AND {where} ORDER BY {order} LIMIT 1""",
        registry, repository, tag, platform,
    )


async def resolve_digest(conn: asyncpg.Connection, digest: str, platform: str) -> str | None:
    """The known platform image for ``digest``: itself, or the ``platform`` child of an index."""
    where = _PLATFORM_MATCH.replace("$P", "$2")
    order = _PLATFORM_RANK.replace("$P", "$2")
    return await conn.fetchval(
        f"""SELECT digest FROM images WHERE digest = $1 OR (index_digest = $1 AND {where})
            ORDER BY digest = $1 DESC, {order} LIMIT 1""",
        digest, platform,
    )


async def scan_summary(conn: asyncpg.Connection, digests: list[str]) -> dict[str, dict[str, Any]]:
    """Per known image: the matcher's state and reason, finding counts by severity, fixable counts,
    the ``problems`` of every stage (non-empty: the scan is partial) and the ecosystems ``not_covered``
    by any advisory data."""
    rows = await conn.fetch(
        """SELECT i.digest, s.state, s.reason,
                  (SELECT coalesce(array_agg(p.stage || ': ' || x ORDER BY p.stage), '{}') FROM scan_stages p,
                          unnest(p.problems) AS x WHERE p.image_digest = i.digest) AS problems,
                  (SELECT c.not_covered FROM image_coverage c WHERE c.image_digest = i.digest) AS not_covered,
                  coalesce(jsonb_object_agg(f.severity, f.n) FILTER (WHERE f.severity IS NOT NULL), '{}') AS counts,
                  coalesce(jsonb_object_agg(f.severity, f.fixable) FILTER (WHERE f.severity IS NOT NULL), '{}')
                    AS fixable
           FROM images i
           LEFT JOIN scan_stages s ON s.image_digest = i.digest AND s.stage = 'matcher'
           LEFT JOIN (SELECT image_digest, severity, count(*) AS n,
                             count(*) FILTER (WHERE cardinality(fixed_versions) > 0) AS fixable
                      FROM findings WHERE image_digest = ANY($1::text[])
                      GROUP BY image_digest, severity) f ON f.image_digest = i.digest
           WHERE i.digest = ANY($1::text[])
           GROUP BY i.digest, s.state, s.reason""",
        digests,
    )
    return {r["digest"]: {"matcher": r["state"] or "pending", "reason": r["reason"],
                          "counts": dict(r["counts"]), "fixable": dict(r["fixable"]),
                          "problems": list(r["problems"]), "not_covered": list(r["not_covered"] or [])}
            for r in rows}


async def image_configs(conn: asyncpg.Connection, digests: list[str]) -> dict[str, dict[str, Any] | None]:
    """The stored OCI config of each image (None where the fetcher stored none)."""
    rows = await conn.fetch("SELECT digest, config FROM images WHERE digest = ANY($1::text[])", digests)
    return {r["digest"]: r["config"] for r in rows}


async def current_tag_names(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Every image some tag points at now, with its ``registry/repository:tag`` names."""
    rows = await conn.fetch(
        "SELECT digest, registry || '/' || repository || ':' || tag AS name FROM image_tags ORDER BY 1, 2")
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["digest"], []).append(r["name"])
    return out
