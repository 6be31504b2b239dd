"""Fixtures for ``imagewatch scan``: the test image as an OCI layout and an advisory store.

``advisory_dsn`` is one database per module with the urllib3 PYSEC excerpts,
the Alpine v3.19 secdb excerpt and one unfixed advisory imported (what
``imagewatch db import`` does); ``scan_env`` points the CLI at it and at a
data directory of the test's own.
"""

from __future__ import annotations

import pytest

from harness.images import tools_missing
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from .helpers import SECDB_319, URLLIB3, build_layout, unfixed_advisory


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    if "umoci" in tools_missing():
        pytest.skip("umoci is not installed (make test installs it)")
    return build_layout(tmp_path_factory.mktemp("layout") / "oci")


@pytest.fixture(scope="module")
async def advisory_dsn(_db_factory, tmp_path_factory):
    dsn = await _db_factory.create()
    pool = await connect_pool(dsn, 1, 2, migrate=False)
    try:
        await import_paths(pool, [URLLIB3, SECDB_319, unfixed_advisory(tmp_path_factory.mktemp("osv"))])
    finally:
        await pool.close()
    yield dsn
    await _db_factory.drop(dsn)


@pytest.fixture
def scan_env(monkeypatch, tmp_path, advisory_dsn):
    """The CLI's environment: the advisory store, a data dir, no config file, a clean cwd."""
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", advisory_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_CONFIG", "IMAGEWATCH_FINGERPRINT_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
