"""Source fetches against a local HTTP server: conditional requests and clear errors."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from imagewatch.ecosystems.alpine.secdb import AlpineSecdbSource
from imagewatch.advisories.sources import OSVSource, SourceError, Unchanged, discard

DATA = Path(__file__).parent / "data"


@pytest.fixture
async def server():
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        name = request.match_info["tail"]
        if name.endswith("all.zip"):
            return web.Response(body=b"PK-not-really", headers={"ETag": '"v1"'})
        branch, repo = name.split("/")
        path = DATA / "secdb" / branch / repo
        if not path.exists():
            return web.Response(status=404)
        return web.Response(body=path.read_bytes(), headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_osv_fetch_then_unchanged(server: str) -> None:
    source = OSVSource("PyPI", bucket=server)
    async with aiohttp.ClientSession() as session:
        path, fp = await source.fetch(session, None)
        assert isinstance(path, Path) and path.read_bytes() == b"PK-not-really"
        assert fp == 'etag:"v1"'
        discard(path)
        with pytest.raises(Unchanged):
            await source.fetch(session, fp)


async def test_secdb_fetch_merges_branches(server: str) -> None:
    source = AlpineSecdbSource(branches=["v3.18", "v3.19"], base_url=server)
    source.files = [f for f in source.files if f[1] == "main"]
    async with aiohttp.ClientSession() as session:
        root, fp = await source.fetch(session, None)
        try:
            ids = {a.id for a in source.parse(root)}
        finally:
            discard(root)
        assert "CVE-2024-9143" in ids
        with pytest.raises(Unchanged):
            await source.fetch(session, fp)


async def test_offline_is_a_clear_error() -> None:
    source = OSVSource("PyPI", bucket="http://127.0.0.1:9")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SourceError, match=r"^osv:PyPI: GET .* failed \(offline\?\)"):
            await source.fetch(session, None)
