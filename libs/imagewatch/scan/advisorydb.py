"""Which advisory store a one-shot scan reads, opened for the scan's duration.

First that applies: ``--db FILE``; ``--db-repository REF`` (pulled into
``CACHE_DIR/db`` when the registry's manifest digest differs from the cached
one; ``--skip-db-update`` uses the cached copy); a configured PostgreSQL
(``IMAGEWATCH_DATABASE_URL`` or ``[database] url``); a database file already
in ``CACHE_DIR/db``; else the embedded PostgreSQL under the data dir. A scan
without the ``vuln`` scanner opens none. Only the PostgreSQL choices start or
reach a server.

The secret fingerprint key comes from the PostgreSQL installation when one is
used (the services fingerprint alike), else from ``IMAGEWATCH_FINGERPRINT_KEY``
or the data dir (``config.installation_key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from imagewatch.scan.errors import EXIT_FAILED, EXIT_USAGE, ScanError


@dataclass
class OpenedDb:
    """The advisory store of one scan: ``lookup`` (None without the vuln scanner), the fingerprint key,
    what it is (for ``--debug`` and ``--version``), and whether it holds anything."""

    lookup: Any
    fingerprint_key: bytes
    description: str
    empty: bool = False


def database_configured(config: Any) -> bool:
    """Whether a PostgreSQL URL is configured (environment or config file)."""
    return bool(os.environ.get("IMAGEWATCH_DATABASE_URL") or config.database.url)


def cached_db_file(cache_dir: Path) -> Path | None:
    """The database file in the cache dir, when there is one."""
    from imagewatch.portable.artifact import db_dir
    from imagewatch.store.dbfile import FILE_NAME

    path = db_dir(cache_dir) / FILE_NAME
    return path if path.is_file() else None


def _open_file(path: Path) -> Any:
    from imagewatch.store.dbfile import DbFile, DbFileError

    try:
        return DbFile.open(path)
    except DbFileError as exc:
        raise ScanError(f"scan: {exc}", EXIT_FAILED) from None


async def _pull(reference: str, cache_dir: Path, client_factory: Any, skip_update: bool) -> tuple[Path, str]:
    from imagewatch.oci import InvalidReference, RegistryError
    from imagewatch.portable.artifact import pull_db
    from imagewatch.store.dbfile import DbFileError

    cached = cached_db_file(cache_dir)
    if skip_update:
        if cached is None:
            raise ScanError(f"scan: --skip-db-update: no database in {cache_dir / 'db'} yet; "
                            "run once without it", EXIT_USAGE)
        return cached, "cached, not checked"
    from imagewatch.oci import Reference

    try:
        async with client_factory([Reference.parse(reference).api_host]) as client:
            path, downloaded = await pull_db(client, reference, cache_dir)
    except InvalidReference as exc:
        raise ScanError(f"scan: --db-repository: {exc}", EXIT_USAGE) from None
    except (RegistryError, DbFileError) as exc:
        raise ScanError(f"scan: --db-repository {reference}: {exc}", EXIT_FAILED) from None
    return path, f"pulled from {reference}" if downloaded else f"up to date with {reference}"


@contextlib.asynccontextmanager
async def open_advisories(*, scanners: frozenset[str], db: Path | None, db_repository: str | None,
                          skip_db_update: bool, cache_dir: Path, config: Any, root: Path,
                          client_factory: Any) -> AsyncIterator[OpenedDb]:
    """The scan's advisory store, closed (and a server this call started stopped) when the block ends."""
    from imagewatch.config import installation_key

    if not scanners & {"vuln", "malware"}:
        yield OpenedDb(None, installation_key(config), "none (no vuln scanner)")
        return
    path, how = db, "given"
    if path is None and db_repository:
        path, how = await _pull(db_repository, cache_dir, client_factory, skip_db_update)
    if path is None and not database_configured(config):
        path, how = cached_db_file(cache_dir), "found in the cache"
    if path is not None:
        dbfile = await asyncio.to_thread(_open_file, path)
        try:
            yield OpenedDb(dbfile, installation_key(config), f"file {path}, {how} ({dbfile.meta.version})",
                           empty=not dbfile.has_advisories())
        finally:
            dbfile.close()
        return
    async with _postgres(config, root) as opened:
        yield opened


@contextlib.asynccontextmanager
async def _postgres(config: Any, root: Path) -> AsyncIterator[OpenedDb]:
    from imagewatch.cli.embedded import EmbeddedError, ensure_database_url
    from imagewatch.store.advisories import has_advisories
    from imagewatch.store.installation import fingerprint_key

    if config.database.url and not os.environ.get("IMAGEWATCH_DATABASE_URL"):
        dsn, started = config.database.url, None
    else:
        try:
            dsn, started = await asyncio.to_thread(ensure_database_url, root)
        except EmbeddedError as exc:
            raise ScanError(f"scan: {exc}", EXIT_FAILED) from None
    try:
        pool = await _pool(dsn)
        try:
            where = urlsplit(dsn)
            yield OpenedDb(pool, await fingerprint_key(pool),
                           f"PostgreSQL at {where.hostname}:{where.port or 5432}",
                           empty=not await has_advisories(pool))
        finally:
            await pool.close()
    finally:
        if started is not None:
            await asyncio.to_thread(started.stop)


async def _pool(dsn: str) -> Any:
    import asyncpg

    from imagewatch.store.db import connect_pool

    where = urlsplit(dsn)
    try:
        return await asyncio.wait_for(connect_pool(dsn, 1, 4), 60)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        raise ScanError(f"scan: cannot use PostgreSQL at {where.hostname}:{where.port or 5432}: "
                        f"{type(exc).__name__}: {exc}", EXIT_FAILED) from None
