"""Per-installation values shared by every replica, kept in PostgreSQL."""

from __future__ import annotations

import os
import secrets

import asyncpg


async def fingerprint_key(conn: asyncpg.Connection | asyncpg.Pool) -> bytes:
    """The HMAC key for secret fingerprints: ``IMAGEWATCH_FINGERPRINT_KEY`` or one generated once.

    Every replica of every service reads the same key, so the same secret has
    the same fingerprint wherever and whenever it is found.
    """
    env = os.environ.get("IMAGEWATCH_FINGERPRINT_KEY")
    if env:
        return env.encode()
    await conn.execute(
        "INSERT INTO installation (name, value) VALUES ('fingerprint-key', $1) ON CONFLICT DO NOTHING",
        secrets.token_bytes(32),
    )
    return bytes(await conn.fetchval("SELECT value FROM installation WHERE name = 'fingerprint-key'"))
