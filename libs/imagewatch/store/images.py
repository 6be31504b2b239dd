"""Images, tags, layers and per-stage status: record and query.

Every write is an idempotent upsert keyed by digests, so a redelivered message
repeats no visible effect.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from ..models import LayerRef

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
               ON CONFLICT (digest) DO UPDATE SET last_seen = now(),
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


async def set_stage(conn: asyncpg.Connection, digest: str, stage: str, state: str,
                    reason: str | None = None) -> None:
    """Move an image's stage to ``state``; ``running`` stamps the start, done/failed the end."""
    await conn.execute(
        """INSERT INTO scan_stages (image_digest, stage, state, started_at, finished_at, reason, attempts)
           VALUES ($1, $2, $3,
                   CASE WHEN $3 = 'running' THEN now() END,
                   CASE WHEN $3 IN ('done', 'failed') THEN now() END,
                   $4, CASE WHEN $3 = 'running' THEN 1 ELSE 0 END)
           ON CONFLICT (image_digest, stage) DO UPDATE SET
             state = EXCLUDED.state,
             started_at = CASE WHEN EXCLUDED.state = 'running' THEN now()
                               WHEN EXCLUDED.state = 'pending' THEN NULL
                               ELSE scan_stages.started_at END,
             finished_at = CASE WHEN EXCLUDED.state IN ('done', 'failed') THEN now() ELSE NULL END,
             reason = EXCLUDED.reason,
             attempts = scan_stages.attempts + CASE WHEN EXCLUDED.state = 'running' THEN 1 ELSE 0 END,
             updated_at = now()""",
        digest, stage, state, reason,
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


async def layers_needing_scan(conn: asyncpg.Connection, diff_ids: list[str]) -> set[str]:
    """The diff_ids some registered stage has not analysed at its current version."""
    rows = await conn.fetch(
        """SELECT d.diff_id FROM unnest($1::text[]) AS d(diff_id)
           WHERE NOT EXISTS (SELECT 1 FROM stage_versions)
              OR EXISTS (SELECT 1 FROM stage_versions v WHERE NOT EXISTS (
                   SELECT 1 FROM layer_scans s
                   WHERE s.diff_id = d.diff_id AND s.stage = v.stage AND s.version = v.version))""",
        diff_ids,
    )
    return {r["diff_id"] for r in rows}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def stages_of(conn: asyncpg.Connection, digest: str) -> dict[str, dict[str, Any]]:
    """Status of every stage for an image, keyed by stage name."""
    rows = await conn.fetch("SELECT * FROM scan_stages WHERE image_digest = $1", digest)
    out: dict[str, dict[str, Any]] = {s: {"state": "pending"} for s in STAGES}
    for r in rows:
        seconds = None
        if r["started_at"] and r["finished_at"]:
            seconds = round((r["finished_at"] - r["started_at"]).total_seconds(), 3)
        item = {"state": r["state"], "started_at": _iso(r["started_at"]),
                "finished_at": _iso(r["finished_at"]), "seconds": seconds, "attempts": r["attempts"]}
        if r["reason"]:
            item["reason"] = r["reason"]
        out[r["stage"]] = item
    return out


async def list_images(conn: asyncpg.Connection, repository: str | None = None, tag: str | None = None,
                      limit: int = 100, after: str | None = None) -> list[dict[str, Any]]:
    """Images (newest first), optionally of one repository/tag; ``after`` is a digest cursor."""
    rows = await conn.fetch(
        """SELECT i.digest, i.media_type, i.platform, i.index_digest, i.first_seen, i.last_seen,
                  array_agg(DISTINCT r.registry || '/' || r.repository) AS repositories,
                  coalesce(array_agg(DISTINCT t.tag) FILTER (WHERE t.tag IS NOT NULL), '{}') AS tags
           FROM images i
           JOIN image_repositories r ON r.digest = i.digest
           LEFT JOIN image_tags t ON t.digest = i.digest
           WHERE ($1::text IS NULL OR r.repository = $1 OR r.registry || '/' || r.repository = $1)
             AND ($2::text IS NULL OR t.tag = $2)
             AND ($3::text IS NULL OR i.digest > $3)
           GROUP BY i.digest
           ORDER BY i.digest
           LIMIT $4""",
        repository, tag, after, limit,
    )
    return [
        {"digest": r["digest"], "media_type": r["media_type"], "platform": r["platform"],
         "index_digest": r["index_digest"] or None, "repositories": sorted(r["repositories"]),
         "tags": sorted(r["tags"]), "first_seen": _iso(r["first_seen"]), "last_seen": _iso(r["last_seen"])}
        for r in rows
    ]


async def get_image(conn: asyncpg.Connection, digest: str) -> dict[str, Any] | None:
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
        "stages": await stages_of(conn, digest),
    }
