"""Vulnerability findings per image and the new/fixed delta per repository tag."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from imagewatch.models import SEVERITY_ORDER, Finding


def finding_key(f: Finding) -> str:
    """The identity of a finding within one image."""
    return f"{f.advisory_id}|{f.ecosystem}|{f.package}|{f.version}"


async def _upsert(conn: asyncpg.Connection, digest: str, keys: list[str], findings: list[Finding]) -> None:
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
        await _upsert(conn, digest, keys, findings)
    after = {f.advisory_id for f in findings}
    return sorted(after - before), sorted(before - after)


async def image_findings(conn: asyncpg.Connection, digest: str, *, severity: list[str] | None = None,
                         fixable: bool | None = None, kind: str | None = None) -> list[Finding]:
    """An image's findings, most severe first, optionally filtered (``kind``: vulnerability or malware)."""
    rows = await conn.fetch(
        """SELECT finding FROM findings WHERE image_digest = $1
             AND ($2::text[] IS NULL OR severity = ANY($2::text[]))
             AND ($3::bool IS NULL OR (cardinality(fixed_versions) > 0) = $3)
             AND ($4::text IS NULL OR coalesce(finding->>'kind', 'vulnerability') = $4)""",
        digest, severity, fixable, kind,
    )
    out = [msgspec.convert(r["finding"], Finding) for r in rows]
    out.sort(key=lambda f: (-SEVERITY_ORDER.get(f.severity, 0), -(f.score or 0), f.advisory_id, f.package))
    return out


async def malware_count(conn: asyncpg.Connection, digest: str) -> int:
    """Number of an image's malware findings: known-malicious packages and malicious or tampered files."""
    return await conn.fetchval(
        """SELECT (SELECT count(*) FROM findings WHERE image_digest = $1 AND finding->>'kind' = 'malware')
                + (SELECT count(*) FROM secret_findings WHERE image_digest = $1 AND kind = 'malware')""",
        digest)


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
           WHERE f.ids @> ARRAY[$1::text] AND ($3::text IS NULL OR f.image_digest > $3)
           GROUP BY f.image_digest, f.key, f.finding, f.first_seen
           ORDER BY f.image_digest LIMIT $2""",
        vuln_id, limit, after,
    )
    return [{"image_digest": r["image_digest"], "repositories": sorted(r["repositories"]),
             "first_seen": r["first_seen"].isoformat(), "finding": r["finding"]} for r in rows]


async def finding_counts(conn: asyncpg.Connection, digest: str) -> dict[str, int]:
    """Number of an image's findings per severity, most severe first."""
    rows = await conn.fetch(
        "SELECT severity, count(*) AS n FROM findings WHERE image_digest = $1 GROUP BY severity", digest)
    return {r["severity"]: r["n"] for r in sorted(rows, key=lambda r: -SEVERITY_ORDER.get(r["severity"], 0))}


async def image_finding_ids(conn: asyncpg.Connection, digest: str) -> set[str]:
    """Every id (advisory ids and aliases) the image's findings are known under."""
    return {r[0] for r in await conn.fetch(
        "SELECT DISTINCT unnest(ids) FROM findings WHERE image_digest = $1", digest)}


async def replace_package_findings(conn: asyncpg.Connection, digest: str,
                                   packages: list[tuple[str, str, str]], findings: list[Finding]) -> None:
    """Replace the findings of some packages of an image, given as (ecosystem, name, version).

    The findings of the image's other packages are left as they are.
    """
    keys = [finding_key(f) for f in findings]
    async with conn.transaction():
        await conn.execute(
            """DELETE FROM findings WHERE image_digest = $1 AND NOT (key = ANY($5::text[]))
                 AND (ecosystem, package, version) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))""",
            digest, [p[0] for p in packages], [p[1] for p in packages], [p[2] for p in packages], keys)
        await _upsert(conn, digest, keys, findings)


async def lock_image(conn: asyncpg.Connection, digest: str) -> None:
    """Serialise matching of one image until the current transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('matcher'), hashtext($1))", digest)


async def matched(conn: asyncpg.Connection, digest: str) -> bool:
    """Whether the matcher has finished matching the image at least once."""
    state = await conn.fetchval(
        "SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = 'matcher'", digest)
    return state == "done"


async def tag_previous(conn: asyncpg.Connection, *, registry: str, repository: str, tag: str,
                       digest: str) -> list[tuple[str, str, str | None]]:
    """(registry, platform, previous digest) of each tag entry where the tag points at ``digest`` now.

    An empty ``registry`` matches any registry.
    """
    rows = await conn.fetch(
        """SELECT registry, platform, previous_digest FROM image_tags
           WHERE ($1 = '' OR registry = $1) AND repository = $2 AND tag = $3 AND digest = $4
           ORDER BY registry, platform""",
        registry, repository, tag, digest,
    )
    return [(r["registry"], r["platform"], r["previous_digest"]) for r in rows]


async def image_targets(conn: asyncpg.Connection, digest: str) -> list[tuple[str, str, str]]:
    """(registry, repository, tag) of every tag pointing at the image now, else its repositories untagged."""
    rows = await conn.fetch(
        "SELECT DISTINCT registry, repository, tag FROM image_tags WHERE digest = $1 ORDER BY 1, 2, 3", digest)
    if not rows:
        rows = await conn.fetch(
            "SELECT registry, repository, '' AS tag FROM image_repositories WHERE digest = $1 ORDER BY 1, 2",
            digest)
    return [(r["registry"], r["repository"], r["tag"]) for r in rows]


async def rematch_result(conn: asyncpg.Connection, update_id: str, digest: str) -> list[str] | None:
    """The new ids an advisory update already produced for an image, or None when not re-matched yet."""
    value = await conn.fetchval(
        "SELECT new_ids FROM matcher_rematches WHERE update_id = $1 AND image_digest = $2", update_id, digest)
    return None if value is None else list(value)


async def record_rematch(conn: asyncpg.Connection, update_id: str, digest: str, new_ids: list[str]) -> None:
    """Remember that ``update_id`` re-matched the image and what it found new."""
    await conn.execute(
        """INSERT INTO matcher_rematches (update_id, image_digest, new_ids) VALUES ($1, $2, $3)
           ON CONFLICT (update_id, image_digest) DO NOTHING""",
        update_id, digest, new_ids,
    )


async def images_with_vulnerability(conn: asyncpg.Connection, vuln_id: str, limit: int = 100,
                                    after: str | None = None) -> list[dict[str, Any]]:
    """Images with a finding known under ``vuln_id`` (any of its ids), with repositories, tags, packages.

    Ordered by digest; ``after`` is a digest cursor.
    """
    # one page of digests from finding_ids (index order, however many images hold the id), then their findings
    rows = await conn.fetch(
        """WITH page AS (SELECT DISTINCT image_digest FROM finding_ids
                         WHERE id = $1 AND ($3::text IS NULL OR image_digest > $3)
                         ORDER BY image_digest LIMIT $2)
           SELECT f.image_digest, i.platform, min(f.first_seen) AS first_seen,
                  array_agg(DISTINCT f.finding::text) AS findings,
                  (SELECT coalesce(array_agg(r.registry || '/' || r.repository ORDER BY 1), '{}')
                     FROM image_repositories r WHERE r.digest = f.image_digest) AS repositories,
                  (SELECT coalesce(array_agg(t.registry || '/' || t.repository || ':' || t.tag ORDER BY 1), '{}')
                     FROM image_tags t WHERE t.digest = f.image_digest) AS tags
           FROM page p JOIN findings f ON f.image_digest = p.image_digest
           JOIN finding_ids x ON x.id = $1 AND x.image_digest = f.image_digest AND x.key = f.key
           JOIN images i ON i.digest = f.image_digest
           GROUP BY f.image_digest, i.platform
           ORDER BY f.image_digest""",
        vuln_id, limit, after,
    )
    dec = msgspec.json.Decoder(Finding)
    return [{"digest": r["image_digest"], "platform": r["platform"],
             "repositories": list(r["repositories"]), "tags": list(r["tags"]),
             "first_seen": r["first_seen"].isoformat(),
             "findings": sorted((dec.decode(f) for f in r["findings"]), key=lambda f: (f.package, f.version))}
            for r in rows]


async def images_with_ids(conn: asyncpg.Connection, vuln_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Images with findings known under any of ``vuln_ids``: digest → (ecosystem, package, version) of those findings."""
    if not vuln_ids:
        return {}
    rows = await conn.fetch(
        """SELECT DISTINCT image_digest, ecosystem, package, version FROM findings
           WHERE ids && $1::text[] ORDER BY 1, 2, 3, 4""", vuln_ids)
    out: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        out.setdefault(r["image_digest"], []).append((r["ecosystem"], r["package"], r["version"]))
    return out


async def findings_of_images(conn: asyncpg.Connection, digests: list[str]) -> list[tuple[str, Finding]]:
    """(image digest, finding) of every finding of these images."""
    rows = await conn.fetch("SELECT image_digest, finding FROM findings WHERE image_digest = ANY($1::text[])",
                            digests)
    dec = msgspec.convert
    return [(r["image_digest"], dec(r["finding"], Finding)) for r in rows]
