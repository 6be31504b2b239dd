"""The updater: one run per source across processes, fingerprints, announcements, the service."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from harness.stack import Stack
from imagewatch.advisories import decode_json
from imagewatch.advisories.sources import SourceError, Unchanged
from imagewatch.messages import SUBJECT_VULNDB, VulnDBChanged
from imagewatch.store.advisories import source_status
from imagewatch.updater.sync import messages_for, run_sources, select_sources

from matcher.helpers import Tap

DOC = {"id": "GHSA-fake-0001", "modified": "2030-01-01T00:00:00Z", "aliases": ["CVE-2099-0002"], "affected": [
    {"package": {"ecosystem": "PyPI", "name": "urllib3"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}


class FakeSource:
    """A source serving one advisory with ETag ``etag:1``; slow enough for runs to overlap."""

    def __init__(self, name: str = "fake:test", error: str = "") -> None:
        self.name = name
        self.error = error
        self.fetches = 0

    async def fetch(self, session, fingerprint):
        self.fetches += 1
        await asyncio.sleep(0.3)
        if self.error:
            raise SourceError(self.error)
        if fingerprint == "etag:1":
            raise Unchanged(f"{self.name}: not modified")
        return json.dumps(DOC).encode(), "etag:1"

    def parse(self, data):
        yield decode_json(data, self.name)


async def test_two_runs_at_once_only_one_runs_the_source(pg_dsn):
    pools = [await asyncpg.create_pool(pg_dsn, min_size=1, max_size=3) for _ in range(2)]
    source = FakeSource()
    try:
        results = await asyncio.gather(*(run_sources(p, [source], None) for p in pools))
        states = sorted(r.state for [r] in results)
        assert states == ["changed", "skipped"] and source.fetches == 1
        [changed] = [r for [r] in results if r.state == "changed"]
        assert changed.changed == [("PyPI", "urllib3")] and changed.advisories == ["GHSA-fake-0001"]
        assert changed.fingerprint == "etag:1" and changed.published == 0  # no bus given

        [again] = await run_sources(pools[0], [source], None)
        assert again.state == "unchanged" and source.fetches == 2
        [status] = await source_status(pools[0], "fake:test")
        assert (status.fingerprint, status.records) == ("etag:1", 1)

        [failed] = await run_sources(pools[0], [FakeSource("fake:down", "fake:down: GET x failed (offline?)")], None)
        assert failed.state == "failed" and "(offline?)" in failed.error
        assert await source_status(pools[0], "fake:down") == []
    finally:
        for p in pools:
            await p.close()


def test_select_sources_and_message_splitting():
    available = {"a": FakeSource("a"), "b": FakeSource("b")}
    assert [s.name for s in select_sources([], available)] == ["a", "b"]
    assert [s.name for s in select_sources(["b"], available)] == ["b"]
    with pytest.raises(ValueError, match="unknown source"):
        select_sources(["c"], available)
    assert {s.name for s in select_sources()} >= {"osv:PyPI", "osv:Debian", "alpine-secdb"}

    pairs = [("PyPI", f"p{i}") for i in range(2500)]
    msgs = messages_for("u1", "osv:PyPI", pairs, [f"ID-{i}" for i in range(10)])
    assert [m.update_id for m in msgs] == ["u1.0", "u1.1", "u1.2"]
    assert sum(len(m.changed) for m in msgs) == 2500 and sum(len(m.advisories) for m in msgs) == 10
    [one] = messages_for("u2", "s", [("PyPI", "x")], ["A"])
    assert one.update_id == "u2"


async def test_updater_service_runs_at_start_and_announces(config, nats_url, monkeypatch):
    source = FakeSource()
    monkeypatch.setattr("imagewatch_services.updater.main.available_sources", lambda: {source.name: source})
    config.updater.sources = [source.name]
    config.updater.run_at_start = True
    stack = Stack(config)
    tap = Tap(nats_url, SUBJECT_VULNDB, VulnDBChanged)
    try:
        await stack.start("updater")
        await tap.start()
        [msg] = await tap.wait(lambda m: True, what="iw.vulndb from the updater")
        assert msg.source == "fake:test" and msg.advisories == ["GHSA-fake-0001"]
        assert [(k.ecosystem, k.name) for k in msg.changed] == [("PyPI", "urllib3")]
        assert source.fetches == 1
    finally:
        await tap.close()
        await stack.stop()
