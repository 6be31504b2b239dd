"""Per-layer analyser results (the cache) and each image's package list."""

from __future__ import annotations

import asyncpg
import msgspec

from imagewatch.models import OSInfo, Package

_PKG = msgspec.json.Decoder(Package)
_OS = msgspec.json.Decoder(OSInfo)


def _to_json(value) -> object:
    return msgspec.to_builtins(value)


async def layer_results(conn: asyncpg.Connection, diff_id: str,
                        analysers: list[tuple[str, int]]) -> dict[str, object]:
    """Cached results of the given (analyser, version) pairs for one layer, by analyser name."""
    rows = await conn.fetch(
        """SELECT analyser, result FROM layer_results
           WHERE diff_id = $1 AND (analyser, version) IN (SELECT * FROM unnest($2::text[], $3::int[]))""",
        diff_id, [a for a, _ in analysers], [v for _, v in analysers],
    )
    return {r["analyser"]: r["result"] for r in rows}


async def put_layer_result(conn: asyncpg.Connection, diff_id: str, analyser: str, version: int,
                           result: object) -> None:
    """Cache one analyser's result for one layer (idempotent)."""
    await conn.execute(
        """INSERT INTO layer_results (diff_id, analyser, version, result) VALUES ($1, $2, $3, $4)
           ON CONFLICT (diff_id, analyser, version) DO UPDATE SET result = EXCLUDED.result""",
        diff_id, analyser, version, _to_json(result),
    )


async def put_layer_results(conn: asyncpg.Connection, diff_id: str,
                            results: list[tuple[str, int, object]]) -> None:
    """Cache several (analyser, version, result) of one layer in one round trip (idempotent)."""
    await conn.executemany(
        """INSERT INTO layer_results (diff_id, analyser, version, result) VALUES ($1, $2, $3, $4)
           ON CONFLICT (diff_id, analyser, version) DO UPDATE SET result = EXCLUDED.result""",
        [(diff_id, name, version, _to_json(result)) for name, version, result in results],
    )


async def record_layer_error(conn: asyncpg.Connection, diff_id: str, stage: str, reason: str) -> None:
    """Why a layer was refused (tar bomb, path escape, corrupt compression)."""
    await conn.execute(
        """INSERT INTO layer_errors (diff_id, stage, reason) VALUES ($1, $2, $3)
           ON CONFLICT (diff_id, stage) DO UPDATE SET reason = EXCLUDED.reason, failed_at = now()""",
        diff_id, stage, reason,
    )


async def replace_image_packages(conn: asyncpg.Connection, digest: str, packages: list[Package],
                                 os: OSInfo | None) -> None:
    """Store an image's composed package list and OS, replacing any earlier one."""
    async with conn.transaction():
        await conn.execute("DELETE FROM image_packages WHERE image_digest = $1", digest)
        await conn.executemany(
            """INSERT INTO image_packages (image_digest, position, ecosystem, name, version, package)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            [(digest, i, p.ecosystem, p.name, p.version, _to_json(p)) for i, p in enumerate(packages)],
        )
        await conn.execute("UPDATE images SET os = $2 WHERE digest = $1", digest,
                           _to_json(os) if os else None)


async def image_packages(conn: asyncpg.Connection, digest: str) -> list[Package]:
    """An image's packages in stored order."""
    rows = await conn.fetch(
        "SELECT package FROM image_packages WHERE image_digest = $1 ORDER BY position", digest)
    return [msgspec.convert(r["package"], Package) for r in rows]


async def list_image_packages(conn: asyncpg.Connection, digest: str, *, ecosystem: str | None = None,
                              name: str | None = None, limit: int = 100,
                              after: int | None = None) -> list[tuple[int, Package]]:
    """A page of an image's packages as (position, package), in stored order.

    ``ecosystem`` matches case-insensitively and ignores a ``:release`` suffix;
    ``name`` matches exactly; ``after`` is the position of the previous page's last row.
    """
    rows = await conn.fetch(
        """SELECT position, package FROM image_packages
           WHERE image_digest = $1
             AND ($2::text IS NULL OR lower(ecosystem) = lower($2))
             AND ($3::text IS NULL OR name = $3)
             AND ($4::int IS NULL OR position > $4)
           ORDER BY position LIMIT $5""",
        digest, ecosystem.split(":", 1)[0] if ecosystem else None, name, after, limit,
    )
    return [(r["position"], msgspec.convert(r["package"], Package)) for r in rows]


async def image_os(conn: asyncpg.Connection, digest: str) -> OSInfo | None:
    """The distribution recorded for an image, if any."""
    value = await conn.fetchval("SELECT os FROM images WHERE digest = $1", digest)
    return msgspec.convert(value, OSInfo) if value else None


async def images_with_packages(conn: asyncpg.Connection, pairs: list[tuple[str, str]]) -> list[str]:
    """Digests of images holding any of the (ecosystem, name) pairs (ecosystem without release)."""
    if not pairs:
        return []
    rows = await conn.fetch(
        """SELECT DISTINCT image_digest FROM image_packages
           WHERE (ecosystem, name) IN (SELECT * FROM unnest($1::text[], $2::text[]))
              OR (ecosystem, package->>'source_name') IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        [e.split(":", 1)[0] for e, _ in pairs], [n for _, n in pairs],
    )
    return [r["image_digest"] for r in rows]
