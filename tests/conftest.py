"""Session harness: real NATS, PostgreSQL (and, in tests/harness/registry.py, a registry).

Fixtures:
- ``nats_url``: a NATS server with JetStream and no streams, per test.
- ``pg_dsn``: DSN of a fresh database with every migration applied, per test.
- ``config``: an imagewatch Config wired to both, with a temporary data dir.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from harness.servers import DatabaseFactory, NatsProvider, postgres_server
from imagewatch.config import load_config

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ADMISSION_TOKEN = "admission-test-0123456789abcdef"


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="imagewatch-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def _pg_admin(workdir):
    with postgres_server(workdir) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def _db_factory(_pg_admin):
    return DatabaseFactory(_pg_admin)


@pytest.fixture
async def pg_dsn(_db_factory):
    dsn = await _db_factory.create()
    yield dsn
    await _db_factory.drop(dsn)


@pytest.fixture(scope="session")
def _nats_provider(workdir):
    provider = NatsProvider(workdir)
    yield provider
    provider.close()


@pytest.fixture
def nats_url(_nats_provider):
    with _nats_provider.server() as url:
        yield url


@pytest.fixture
def config(tmp_path, nats_url, pg_dsn):
    """A Config for one test: its own data dir, NATS, database and fixed webhook and admission tokens."""
    env = {
        "IMAGEWATCH_NATS_URL": nats_url,
        "IMAGEWATCH_DATABASE_URL": pg_dsn,
        "IMAGEWATCH_WEBHOOK_TOKEN": "test-token-0123456789abcdef",  # tokens under 16 characters are refused
        "IMAGEWATCH_ADMISSION_TOKEN": ADMISSION_TOKEN,
        "IMAGEWATCH_DATA_DIR": str(tmp_path / "data"),
        "IMAGEWATCH_LOG_FORMAT": "json",
    }
    cfg = load_config(env=env)
    cfg.bus.nak_delay = 0.2
    return cfg
