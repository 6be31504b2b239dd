"""The secrets stage's layer cache in PostgreSQL (``layer_secret_results``), behind ``SecretLayerCache``."""

from __future__ import annotations

import asyncpg
import msgspec

from imagewatch.secrets import LayerSecrets
from imagewatch.store import images as image_store
from imagewatch.store import secrets as store


class PgSecretCache:
    """A ``SecretLayerCache`` shared by every replica; an unreadable row counts as a miss."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        async with self.pool.acquire() as conn:
            value = await store.layer_secret_results(conn, diff_id, version)
        try:
            return None if value is None else msgspec.convert(value, LayerSecrets)
        except msgspec.ValidationError:
            return None

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        async with self.pool.acquire() as conn:
            await store.put_layer_secret_results(conn, diff_id, version, msgspec.to_builtins(result))

    async def verified(self, digest: str, diff_id: str) -> bool:
        async with self.pool.acquire() as conn:
            return await image_store.layer_verified(conn, digest, diff_id)

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        async with self.pool.acquire() as conn:
            await image_store.mark_layer_verified(conn, digest, diff_id)
