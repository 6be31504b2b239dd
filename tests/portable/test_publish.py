"""The updater pushes the portable database to ``[updater] publish_to`` after a pass."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from harness.images import tools_missing
from harness.registry import run_registry
from harness.stack import Stack
from imagewatch.fetcher.fetch import make_client
from imagewatch.portable.artifact import pull_db
from imagewatch.store.dbfile import DbFile

from updater.test_sync import FakeSource


@pytest.fixture
def registry(tmp_path):
    if "docker-registry" in tools_missing():
        pytest.skip("docker-registry is not installed")
    with run_registry(tmp_path / "registry") as running:
        yield running


async def _pull(config, ref, cache):
    async with aiohttp.ClientSession() as session:
        return await pull_db(make_client(session, config.fetcher), ref, cache)


async def test_updater_publishes_after_its_pass(config, registry, monkeypatch, tmp_path):
    source = FakeSource()
    monkeypatch.setattr("imagewatch_services.updater.main.available_sources", lambda: {source.name: source})
    monkeypatch.setattr("imagewatch_services.updater.main._published", {"once": False})
    ref = registry.ref("imagewatch/db", "latest")
    config.updater.sources = [source.name]
    config.updater.run_at_start = True
    config.updater.publish_to = ref
    config.fetcher.insecure_registries = [registry.host]
    stack = Stack(config)
    try:
        await stack.start("updater")
        for _ in range(300):  # the pass, then the push; the registry answers once it is there
            try:
                path, downloaded = await _pull(config, ref, tmp_path / "cache")
                break
            except Exception:  # noqa: BLE001 - not pushed yet
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the updater never published the database")
    finally:
        await stack.stop()
    assert downloaded
    with DbFile.open(path) as db:
        assert "GHSA-fake-0001" in {a.id for a in (await db.advisories_for("PyPI", ["urllib3"]))["urllib3"]}
        assert [s.name for s in db.meta.sources] == ["fake:test"]
