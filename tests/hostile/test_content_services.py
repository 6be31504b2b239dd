"""Hostile layers against the running services: refused with the reason on the scan, services keep going.

A header bomb (a 16 MiB GNU long name in a small gzip layer) fails the
inventory and secrets stages with ``layers: refused (extension_header)``,
recorded in ``layer_errors`` and in the API; the same services then scan a
good image completely, and nothing of the bomb reaches a cache.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from harness.images import ImageSpec, layer_tar, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from hostile.bombs import end, extension, regular
from inventory.raw_images import push_raw

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
BOMB_TAR = extension(b"L", b"a" * (16 << 20) + b"\0") + regular("file", b"x") + end()
GOOD = {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n"}


async def _stages(dsn: str, digest: str):
    rows = await query(dsn, "SELECT stage, state, reason FROM scan_stages WHERE image_digest = $1 "
                            "AND stage IN ('inventory', 'secrets') AND state IN ('done', 'failed')", digest)
    return {r["stage"]: r for r in rows} if len(rows) == 2 else None


async def test_header_bomb_fails_both_stages_and_the_services_go_on(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        bomb = await asyncio.to_thread(push_raw, reg.host, "evil/bomb", "1", [layer_tar(GOOD), BOMB_TAR])
        good = await asyncio.to_thread(push_image, reg.host, "team/good", "1", ImageSpec(layers=[GOOD]))
        stack = await Stack(config).start("api", "fetcher", "inventory", "secrets")
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{stack.api_url}/v1/scans", json={"reference": bomb.reference},
                                     headers=AUTH) as resp:
                    assert resp.status == 202
                stages = await wait_for(lambda: _stages(pg_dsn, bomb.digest), what="bomb refused")
                for stage in ("inventory", "secrets"):
                    assert stages[stage]["state"] == "failed"
                    assert stages[stage]["reason"].startswith("layers: refused (extension_header)"), stages[stage]
                async with http.get(f"{stack.api_url}/v1/images/{bomb.digest}") as resp:
                    detail = await resp.json()
                assert detail["scan_status"] == "failed"
                assert "extension_header" in detail["stages"]["inventory"]["reason"]
                errors = await query(pg_dsn, "SELECT stage FROM layer_errors ORDER BY stage")
                assert [r["stage"] for r in errors] == ["inventory", "secrets"]

                async with http.post(f"{stack.api_url}/v1/scans", json={"reference": good.reference},
                                     headers=AUTH) as resp:
                    assert resp.status == 202
                stages = await wait_for(lambda: _stages(pg_dsn, good.digest), what="good image scanned")
                assert {s: r["state"] for s, r in stages.items()} == {"inventory": "done", "secrets": "done"}
                async with http.get(f"{stack.api_url}/v1/images/{good.digest}/packages") as resp:
                    assert [p["name"] for p in (await resp.json())["items"]] == ["musl"]
            bombed = (await query(pg_dsn, "SELECT diff_id FROM image_layers WHERE image_digest = $1 "
                                          "AND position = 1", bomb.digest))[0]["diff_id"]
            for table in ("layer_results", "layer_secret_results", "layer_scans", "layer_verified"):
                assert await query(pg_dsn, f"SELECT 1 FROM {table} WHERE diff_id = $1", bombed) == [], table
        finally:
            await stack.stop()
