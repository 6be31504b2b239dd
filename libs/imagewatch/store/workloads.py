"""Images running workloads use: the digests the admission webhook has resolved for a pod."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from imagewatch.store.advisories import _connection


async def record_admission_seen(conn: Any, digests: Iterable[str], namespace: str = "") -> None:
    """Remember that a pod (in ``namespace``) uses these image digests; refreshes ``last_seen``."""
    wanted = sorted({d for d in digests if d})
    if not wanted:
        return
    async with _connection(conn) as c:
        await c.execute(
            """INSERT INTO admission_seen (digest, namespace) SELECT unnest($1::text[]), $2
               ON CONFLICT (digest) DO UPDATE SET last_seen = now(), namespace = EXCLUDED.namespace""",
            wanted, namespace)


async def in_use(conn: Any, digests: Iterable[str]) -> set[str]:
    """Which of ``digests`` the admission webhook has seen in a pod."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    async with _connection(conn) as c:
        rows = await c.fetch("SELECT digest FROM admission_seen WHERE digest = ANY($1::text[])", wanted)
    return {r["digest"] for r in rows}
