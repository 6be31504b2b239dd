"""KEV, EPSS, endoflife.date and Debian tracker as sync sources, against a local server holding the real slices."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import json
import threading
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import yaml
from aiohttp import web

from imagewatch.advisories.sources.catalog import default_sources
from imagewatch.advisories.sources.endoflife import EndOfLifeSource
from imagewatch.cli.main import main
from imagewatch.config import BusConfig, FeedsConfig
from imagewatch.matcher.eol import PRODUCTS
from imagewatch.messages import SUBJECT_VULNDB, VulnDBChanged
from imagewatch.runtime.bus import Bus
from imagewatch.store.advisories import source_status
from imagewatch.updater.sync import import_paths, run_sources, select_sources

from matcher.helpers import Tap

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
KEV = SHARED / "kev" / "known_exploited_vulnerabilities.json"
EPSS = SHARED / "epss" / "epss-slice-debian12-minbase.csv"
EOL = SHARED / "eol" / "products"
DEBIAN_OSV = SHARED / "debian" / "osv"
FEEDS = ("kev", "epss", "endoflife", "debian-tracker")


def _iso(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def eol_answer(product: str) -> bytes:
    """What endoflife.date's ``/api/<product>.json`` answers, made from the product's front matter."""
    doc = yaml.safe_load((EOL / f"{product}.yaml").read_text())
    names = {"releaseCycle": "cycle", "eoes": "extendedSupport"}
    return json.dumps([{names.get(k, k): _iso(v) for k, v in r.items()} for r in doc["releases"]]).encode()


def tracker_json() -> bytes:
    """A security-tracker JSON document (package → issue → bookworm status) made from the real Debian slice."""
    doc: dict = {}
    for path in sorted(DEBIAN_OSV.glob("*.json")):
        record = json.loads(path.read_text())
        issue = (record.get("upstream") or [record["id"].removeprefix("DEBIAN-")])[0]
        for entry in record["affected"]:
            fixed = [e["fixed"] for r in entry.get("ranges", ()) for e in r["events"] if "fixed" in e]
            release = {"status": "resolved", "fixed_version": fixed[0]} if fixed else {"status": "open"}
            release["urgency"] = (entry.get("ecosystem_specific") or {}).get("urgency", "not yet assigned")
            doc.setdefault(entry["package"]["name"], {})[issue] = {"releases": {"bookworm": release}}
    return json.dumps(doc).encode()


class FeedServer:
    """A local HTTP server for the four feeds, honouring If-None-Match; counts answers per (path, status)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.hits: Counter = Counter()
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = self.files.get(request.path)
        if body is None:
            self.hits[(request.path, 404)] += 1
            return web.Response(status=404)
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == etag:
            self.hits[(request.path, 304)] += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.hits[(request.path, 200)] += 1
        return web.Response(body=body, headers={"ETag": etag})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> "FeedServer":
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def feeds(self) -> FeedsConfig:
        return FeedsConfig(kev_url=f"{self.url}/kev.json", epss_url=f"{self.url}/epss.csv.gz",
                           endoflife_url=f"{self.url}/eol/{{product}}.json",
                           debian_tracker_url=f"{self.url}/tracker/data/json")


@pytest.fixture
def feed_server():
    files = {"/kev.json": KEV.read_bytes(), "/epss.csv.gz": gzip.compress(EPSS.read_bytes(), mtime=0),
             "/tracker/data/json": tracker_json(),
             **{f"/eol/{p}.json": eol_answer(p) for p in PRODUCTS}}
    server = FeedServer(files).start()
    yield server
    server.stop()


def _sources(server: FeedServer) -> list:
    return select_sources(FEEDS, default_sources(feeds=server.feeds()))


async def test_feeds_sync_like_an_import_then_are_unchanged(pg_dsn, nats_url, feed_server, tmp_path):
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=4)
    bus = await Bus.connect(BusConfig(url=nats_url), name="test-feeds")
    tap = await Tap(nats_url, SUBJECT_VULNDB, VulnDBChanged).start()
    try:
        async with aiohttp.ClientSession() as session:
            first = {r.source: r for r in await run_sources(pool, _sources(feed_server), session, bus)}
            assert {s: r.state for s, r in first.items()} == dict.fromkeys(FEEDS, "changed"), first
            status = {s.name: s for s in await source_status(pool)}
            assert all(status[s].fingerprint.startswith("etag:") for s in ("kev", "epss", "debian-tracker"))
            assert set(json.loads(status["endoflife"].fingerprint)) == set(PRODUCTS)

            # a newly listed KEV entry is announced (``exploited``) so matchers re-announce fleet findings
            kev = json.loads(KEV.read_text())
            assert sorted(first["kev"].exploited) == sorted({v["cveID"] for v in kev["vulnerabilities"]})
            assert first["kev"].published >= 1 and first["debian-tracker"].published >= 1
            await tap.wait(lambda m: m.source == "kev" and m.exploited, what="kev exploited")
            await tap.wait(lambda m: m.source == "debian-tracker" and m.changed, what="tracker re-match")

            synced = {s: status[s].last_sync for s in FEEDS}
            again = await run_sources(pool, _sources(feed_server), session, bus)
            assert {r.source: r.state for r in again} == dict.fromkeys(FEEDS, "unchanged")
            after = {s.name: s for s in await source_status(pool)}
            for s in FEEDS:
                assert after[s].last_sync > synced[s] and after[s].records == status[s].records
                assert after[s].fingerprint == status[s].fingerprint
        for path in ("/kev.json", "/epss.csv.gz", "/tracker/data/json", "/eol/debian.json"):
            assert (feed_server.hits[(path, 200)], feed_server.hits[(path, 304)]) == (1, 1), path

        # the same files through `db import`: the same counts, and nothing new for the tracker
        (tmp_path / "epss.csv").write_bytes(EPSS.read_bytes())
        (tmp_path / "tracker.json").write_bytes(feed_server.files["/tracker/data/json"])
        eol = tmp_path / "eol"
        eol.mkdir()
        for p in PRODUCTS:
            (eol / f"{p}.yaml").write_bytes((EOL / f"{p}.yaml").read_bytes())
        imported = {r.source: r for r in await import_paths(
            pool, [KEV, tmp_path / "epss.csv", tmp_path / "tracker.json", eol])}
        for s in ("kev", "epss", "endoflife"):
            assert imported[s].records == first[s].records > 0, s
        assert imported["kev"].records == len(kev["vulnerabilities"])
        assert imported["epss"].records == len(EPSS.read_text().splitlines()) - 1
        assert imported["debian-tracker"].state == "unchanged"
        tracker_rows = {s.name: s.records for s in await source_status(pool)}["debian-tracker"]
        assert tracker_rows == status["debian-tracker"].records > 100
    finally:
        await tap.close()
        await bus.close()
        await pool.close()


async def test_endoflife_fetches_every_product_when_one_changed(pg_dsn, feed_server):
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=4)
    source = EndOfLifeSource(feed_server.feeds().endoflife_url, ("debian", "python"))
    try:
        async with aiohttp.ClientSession() as session:
            [r] = await run_sources(pool, [source], session)
            count = r.records
            feed_server.files["/eol/python.json"] = json.dumps(
                json.loads(feed_server.files["/eol/python.json"])[:3]).encode()
            [r] = await run_sources(pool, [source], session)
            debian = len(json.loads(feed_server.files["/eol/debian.json"]))
            assert r.state == "changed" and r.records == debian + 3 < count
            assert feed_server.hits[("/eol/debian.json", 304)] == 1
            assert feed_server.hits[("/eol/debian.json", 200)] == 2  # fetched again so the catalog stays whole
    finally:
        await pool.close()


async def test_a_feed_that_is_not_what_it_claims_fails_and_keeps_the_store(pg_dsn, feed_server):
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=4)
    feeds = feed_server.feeds()
    try:
        async with aiohttp.ClientSession() as session:
            [ok] = await run_sources(pool, select_sources(["kev"], default_sources(feeds=feeds)), session)
            feed_server.files["/kev.json"] = b"<html>maintenance</html>"
            [bad] = await run_sources(pool, select_sources(["kev"], default_sources(feeds=feeds)), session)
            assert bad.state == "failed" and bad.error.startswith("kev: ")
            [status] = await source_status(pool, "kev")
            assert status.records == ok.records > 0
            feed_server.files["/kev.json"] = b'{"catalogVersion": "x", "vulnerabilities": []}'
            [empty] = await run_sources(pool, select_sources(["kev"], default_sources(feeds=feeds)), session)
            # an empty catalog is a valid catalog: it delists everything, as importing it would
            assert empty.state == "unchanged" and empty.records == 0
    finally:
        await pool.close()


def test_db_sync_source_against_configured_urls(monkeypatch, pg_dsn, tmp_path, feed_server, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_NATS_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    feeds = feed_server.feeds()
    config = tmp_path / "imagewatch.toml"
    config.write_text("[feeds]\n" + "".join(f'{k} = "{getattr(feeds, k)}"\n' for k in FeedsConfig.__struct_fields__))
    monkeypatch.setenv("IMAGEWATCH_CONFIG", str(config))
    assert main(["db", "sync", "--source", "kev", "--source", "epss"]) == 0
    out = capsys.readouterr().out
    assert "kev: 0 advisories changed" in out and "epss: 0 advisories changed" in out
    assert main(["db", "sync", "--source", "kev"]) == 0
    assert "kev: unchanged" in capsys.readouterr().out
    assert main(["db", "status"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert set(rows) == {"kev", "epss"}
    assert int(rows["kev"][1]) == len(json.loads(KEV.read_text())["vulnerabilities"])
    assert main(["db", "sync", "--source", "nope"]) == 2
    assert "unknown source(s) nope" in capsys.readouterr().err
