"""The asyncpg pool and the migration runner.

Migrations are the numbered ``migrations/NNNN_name.sql`` files, applied in order
at start, each in its own transaction, under a PostgreSQL advisory lock so
that many replicas starting at once do not race.
"""

from __future__ import annotations

import json
from importlib import resources

import asyncpg

MIGRATION_LOCK = 0x696D6167  # "imag"


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect_pool(dsn: str, min_size: int = 1, max_size: int = 10, migrate: bool = True) -> asyncpg.Pool:
    """A pool with JSON codecs; applies pending migrations first unless told not to."""
    if migrate:
        await apply_migrations(dsn)
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)


def migration_files() -> list[tuple[str, str]]:
    """(version, SQL) of every bundled migration, in order."""
    folder = resources.files("imagewatch.store") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text()) for p in files]


async def apply_migrations(dsn: str) -> list[str]:
    """Apply pending migrations under an advisory lock; returns the versions applied."""
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, sql in migration_files():
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                applied.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    finally:
        await conn.close()
    return applied


async def ping(conn: asyncpg.Connection) -> None:
    """A trivial round trip (``SELECT 1``); raises when the server does not answer."""
    await conn.fetchval("SELECT 1")


async def try_advisory_lock(conn: asyncpg.Connection, namespace: int, key: int) -> bool:
    """Take the session-level advisory lock (``namespace``, ``key``) on ``conn`` if free; whether it was taken.

    The lock belongs to ``conn``'s session: release it on the same connection.
    """
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", namespace, key))


async def advisory_unlock(conn: asyncpg.Connection, namespace: int, key: int) -> None:
    """Release the session-level advisory lock (``namespace``, ``key``) held by ``conn``."""
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", namespace, key)


def database_exists_sql(name: str) -> str:
    """SQL (for ``psql -tAq -c``) printing ``1`` when database ``name`` exists, nothing otherwise.

    ``name`` is inlined, not quoted: give a trusted identifier.
    """
    return f"SELECT 1 FROM pg_database WHERE datname='{name}'"


def create_database_sql(name: str) -> str:
    """SQL (for ``psql -c``) creating database ``name``; ``name`` is inlined, give a trusted identifier."""
    return f"CREATE DATABASE {name}"
