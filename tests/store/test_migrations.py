"""Migrations apply once, in order, even when many replicas start at the same moment."""

from __future__ import annotations

import asyncio

import asyncpg

from imagewatch.store.db import apply_migrations, migration_files


async def test_concurrent_starts_apply_each_migration_once(_db_factory):
    dsn = await _db_factory.create()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    results = await asyncio.gather(*(apply_migrations(dsn) for _ in range(6)))
    applied = [v for r in results for v in r]
    assert sorted(applied) == [v for v, _ in migration_files()]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in rows] == [v for v, _ in migration_files()]
    assert await apply_migrations(dsn) == []
    await _db_factory.drop(dsn)
