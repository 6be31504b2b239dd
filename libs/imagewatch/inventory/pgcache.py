"""The inventory's layer cache in PostgreSQL (``layer_results``), behind ``imagewatch.inventory.image.LayerCache``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from imagewatch.store import images as image_store
from imagewatch.store import packages as store


class PgLayerCache:
    """A ``LayerCache`` on the ``layer_results`` table, shared by every replica."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load(self, diff_id: str, keys: Sequence[tuple[str, int]]) -> dict[str, object]:
        async with self.pool.acquire() as conn:
            return await store.layer_results(conn, diff_id, list(keys))

    async def store(self, diff_id: str, results: Mapping[tuple[str, int], object]) -> None:
        async with self.pool.acquire() as conn:
            await store.put_layer_results(conn, diff_id, [(n, v, r) for (n, v), r in results.items()])

    async def verified(self, digest: str, diff_id: str) -> bool:
        async with self.pool.acquire() as conn:
            return await image_store.layer_verified(conn, digest, diff_id)

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        async with self.pool.acquire() as conn:
            await image_store.mark_layer_verified(conn, digest, diff_id)
