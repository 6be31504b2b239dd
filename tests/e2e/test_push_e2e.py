"""End to end: a real registry's push notifications land images in PostgreSQL through NATS."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from harness.images import ImageSpec, push_image, push_index, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")

BASE = {"etc/os-release": b'ID=alpine\nVERSION_ID=3.19.1\n', "bin/hello": (b"#!/bin/sh\necho hi\n", 0o755)}
APP = {"app/main.py": b"print('hello')\n"}


async def _images(dsn: str, repository: str):
    return await query(dsn, """SELECT i.digest, i.platform, i.media_type FROM images i
                              JOIN image_repositories r USING (digest) WHERE r.repository = $1
                              ORDER BY i.platform""", repository)


async def test_push_notifications_land_in_postgres_once(config, pg_dsn, tmp_path):
    stack = Stack(config)
    stack.reserve_api_port()
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            config.fetcher.platforms = ["all"]
            await stack.start("api", "fetcher")
            two = {"linux/amd64": ImageSpec(layers=[BASE, APP]),
                   "linux/arm64": ImageSpec(layers=[BASE, APP], architecture="arm64")}
            index = await asyncio.to_thread(push_index, reg.host, "team/multi", "1.0", two)
            plain = await asyncio.to_thread(
                push_image, reg.host, "team/plain", "v2", ImageSpec(layers=[BASE]), docker_v2=True)

            multi = await wait_for(lambda: _ok(pg_dsn, "team/multi", 2), what="two platform images")
            assert {r["platform"] for r in multi} == {"linux/amd64", "linux/arm64"}
            single = await wait_for(lambda: _ok(pg_dsn, "team/plain", 1), what="docker v2 image")
            assert single[0]["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"

            tags = await query(pg_dsn, "SELECT repository, tag, platform, index_digest FROM image_tags "
                                       "ORDER BY repository, platform")
            assert [(t["repository"], t["tag"]) for t in tags] == [
                ("team/multi", "1.0"), ("team/multi", "1.0"), ("team/plain", "v2")]
            assert tags[0]["index_digest"] == index.digest
            layers = await query(pg_dsn, "SELECT digest, diff_id, size, media_type FROM layers")
            assert layers and all(r["diff_id"].startswith("sha256:") and r["size"] > 0 for r in layers)

            # The same event delivered twice changes nothing.
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{stack.api_url}/v1/images/{plain.digest}") as resp:
                    detail = await resp.json()
                assert detail["stages"]["fetcher"]["state"] == "done"
                assert detail["layers"][0]["diff_id"].startswith("sha256:")
                assert detail["platform"] == "linux/amd64"
                async with http.get(f"{stack.api_url}/v1/images", params={"repository": "team/multi"}) as resp:
                    listing = await resp.json()
                assert len(listing["items"]) == 2
                event = {"events": [{"id": "dup-1", "action": "push", "target": {
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "digest": plain.digest, "repository": "team/plain", "tag": "v2",
                    "url": f"http://{reg.host}/v2/team/plain/manifests/{plain.digest}"}}]}
                for _ in range(2):
                    async with http.post(f"{stack.api_url}/v1/events/distribution", json=event,
                                         headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as resp:
                        assert resp.status == 202
            await asyncio.sleep(1.0)
            counts = await query(pg_dsn, """SELECT (SELECT count(*) FROM images) AS images,
                (SELECT count(*) FROM image_tags) AS tags, (SELECT count(*) FROM image_layers) AS il""")
            assert dict(counts[0]) == {"images": 3, "tags": 3, "il": 5}
    finally:
        await stack.stop()


async def _ok(dsn, repository, n):
    rows = await _images(dsn, repository)
    if len(rows) < n:
        return None
    done = await query(dsn, """SELECT count(*) AS n FROM scan_stages s JOIN image_repositories r
                             ON r.digest = s.image_digest WHERE r.repository = $1
                             AND s.stage = 'fetcher' AND s.state = 'done'""", repository)
    return rows if done[0]["n"] >= n else None
