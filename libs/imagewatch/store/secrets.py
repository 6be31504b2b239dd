"""Secret and misconfiguration findings: only fingerprints and redacted previews are stored."""

from __future__ import annotations

import asyncpg
import msgspec

from imagewatch.models import SEVERITY_ORDER, SecretFinding


def secret_key(f: SecretFinding) -> str:
    """The identity of a secret finding within one image."""
    return f"{f.kind}|{f.rule_id}|{f.path}|{f.line}|{f.layer}|{f.fingerprint}"


async def replace_secret_findings(conn: asyncpg.Connection, digest: str, findings: list[SecretFinding]) -> None:
    """Store an image's secret and misconfiguration findings, replacing earlier ones."""
    async with conn.transaction():
        keys = [secret_key(f) for f in findings]
        await conn.execute(
            "DELETE FROM secret_findings WHERE image_digest = $1 AND NOT (key = ANY($2::text[]))", digest, keys)
        await conn.executemany(
            """INSERT INTO secret_findings (image_digest, key, kind, rule_id, severity, path, line, layer,
                                            layer_index, removed_in, fingerprint, finding)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (image_digest, key) DO UPDATE SET severity = EXCLUDED.severity,
                 removed_in = EXCLUDED.removed_in, finding = EXCLUDED.finding""",
            [(digest, k, f.kind, f.rule_id, f.severity, f.path, f.line, f.layer, f.layer_index,
              f.removed_in, f.fingerprint, msgspec.to_builtins(f)) for k, f in zip(keys, findings)],
        )


async def image_secrets(conn: asyncpg.Connection, digest: str, *, kind: str | None = None,
                        severity: list[str] | None = None) -> list[SecretFinding]:
    """An image's secret/misconfiguration findings, most severe first."""
    rows = await conn.fetch(
        """SELECT finding FROM secret_findings WHERE image_digest = $1
             AND ($2::text IS NULL OR kind = $2) AND ($3::text[] IS NULL OR severity = ANY($3::text[]))""",
        digest, kind, severity,
    )
    out = [msgspec.convert(r["finding"], SecretFinding) for r in rows]
    out.sort(key=lambda f: (-SEVERITY_ORDER.get(f.severity, 0), f.kind, f.rule_id, f.path, f.line))
    return out


async def layer_secret_results(conn: asyncpg.Connection, diff_id: str, version: str) -> object | None:
    """The cached per-layer result (JSON builtins, ``secretscan.LayerSecrets``) for this version, or None."""
    return await conn.fetchval(
        "SELECT result FROM layer_secret_results WHERE diff_id = $1 AND version = $2", diff_id, version)


async def put_layer_secret_results(conn: asyncpg.Connection, diff_id: str, version: str, result: object) -> None:
    """Cache a per-layer result given as JSON builtins (idempotent)."""
    await conn.execute(
        """INSERT INTO layer_secret_results (diff_id, version, result) VALUES ($1, $2, $3)
           ON CONFLICT (diff_id, version) DO UPDATE SET result = EXCLUDED.result""",
        diff_id, version, result,
    )


async def image_config(conn: asyncpg.Connection, digest: str) -> dict | None:
    """The image config blob the fetcher stored (parsed), or None."""
    value = await conn.fetchval("SELECT config FROM images WHERE digest = $1", digest)
    return value if isinstance(value, dict) else None


async def config_findings(conn: asyncpg.Connection, digest: str) -> list[SecretFinding]:
    """The image's stored findings on its config (paths ``config:...``)."""
    rows = await conn.fetch(
        "SELECT finding FROM secret_findings WHERE image_digest = $1 AND path LIKE 'config:%'", digest)
    return [msgspec.convert(r["finding"], SecretFinding) for r in rows]


async def store_image_secrets(conn: asyncpg.Connection, digest: str, findings: list[SecretFinding],
                              redacted_config: dict | None) -> None:
    """Replace an image's findings and, when given, its stored config by the redacted one, atomically."""
    async with conn.transaction():
        await replace_secret_findings(conn, digest, findings)
        if redacted_config is not None:
            await conn.execute("UPDATE images SET config = $2 WHERE digest = $1", digest, redacted_config)
