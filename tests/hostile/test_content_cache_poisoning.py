"""Layer cache poisoning: a config claiming another layer's diff_id neither poisons nor borrows its results.

The decoy ships an empty tar but its config claims the diff_id of a real
layer. Pushed before the real image, it must be refused (with the reason on
the scan, in the API) and leave no cache entry, no ``layer_scans`` row and no
verified pair; the real image then gets its real packages and secrets.
Pushed after, it must not be answered from the real layer's cached results.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from harness.images import layer_tar, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from hostile.forge import diff_id, push_forged
from services.secrets.planted import Planted

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
APK_DB = b"P:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\n\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n\n"
PLANTED = Planted.make(11)
REAL = layer_tar({"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": APK_DB,
                  "app/.env": PLANTED.env_file()})
EMPTY = layer_tar({})


async def _scan(http: aiohttp.ClientSession, api: str, reference: str) -> None:
    async with http.post(f"{api}/v1/scans", json={"reference": reference}, headers=AUTH) as resp:
        assert resp.status == 202, await resp.text()


async def _stages(dsn: str, digest: str):
    rows = await query(dsn, "SELECT stage, state, reason FROM scan_stages WHERE image_digest = $1 "
                            "AND stage IN ('inventory', 'secrets')", digest)
    states = {r["stage"]: r for r in rows}
    if len(states) == 2 and all(r["state"] in ("done", "failed") for r in states.values()):
        return states
    return None


async def _json(http: aiohttp.ClientSession, url: str):
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _assert_refused(http, api: str, dsn: str, digest: str) -> None:
    stages = await wait_for(lambda: _stages(dsn, digest), what="decoy stages finished")
    for stage in ("inventory", "secrets"):
        assert stages[stage]["state"] == "failed", stage
        assert stages[stage]["reason"].startswith("layers: refused (diff_id)"), stages[stage]["reason"]
        assert "does not match its claim" in stages[stage]["reason"]
    detail = await _json(http, f"{api}/v1/images/{digest}")
    assert detail["stages"]["inventory"]["state"] == "failed"
    assert "diff_id" in detail["stages"]["inventory"]["reason"]
    errors = await query(dsn, "SELECT stage, reason FROM layer_errors WHERE diff_id = $1", diff_id(REAL))
    assert {r["stage"] for r in errors} >= {"inventory", "secrets"}
    packages = await _json(http, f"{api}/v1/images/{digest}/packages")
    assert packages["items"] == []


async def _assert_real(http, api: str, dsn: str, digest: str) -> None:
    stages = await wait_for(lambda: _stages(dsn, digest), what="real image stages finished")
    assert {s: r["state"] for s, r in stages.items()} == {"inventory": "done", "secrets": "done"}, stages
    packages = await _json(http, f"{api}/v1/images/{digest}/packages")
    assert {p["name"] for p in packages["items"]} == {"libssl3", "musl"}
    secrets = await _json(http, f"{api}/v1/images/{digest}/secrets?kind=secret")
    assert {f["path"] for f in secrets["items"]} == {"app/.env"}


@pytest.fixture
async def stack(config, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        running = await Stack(config).start("api", "fetcher", "inventory", "secrets")
        running.registry = reg.host
        try:
            yield running
        finally:
            await running.stop()


async def test_decoy_first_is_refused_and_poisons_nothing(stack, pg_dsn):
    decoy = await asyncio.to_thread(push_forged, stack.registry, "evil/decoy", "1", [EMPTY], [diff_id(REAL)])
    real = await asyncio.to_thread(push_forged, stack.registry, "team/real", "1", [REAL], [None])
    async with aiohttp.ClientSession() as http:
        await _scan(http, stack.api_url, decoy.reference)
        await _assert_refused(http, stack.api_url, pg_dsn, decoy.digest)
        for table in ("layer_results", "layer_secret_results", "layer_scans"):
            rows = await query(pg_dsn, f"SELECT 1 FROM {table} WHERE diff_id = $1", diff_id(REAL))
            assert rows == [], table
        assert await query(pg_dsn, "SELECT 1 FROM layer_verified") == []

        await _scan(http, stack.api_url, real.reference)
        await _assert_real(http, stack.api_url, pg_dsn, real.digest)
        assert "api" in stack.services and "inventory" in stack.services  # still serving


async def test_decoy_after_the_real_image_is_not_answered_from_its_cache(stack, pg_dsn):
    real = await asyncio.to_thread(push_forged, stack.registry, "team/real", "1", [REAL], [None])
    decoy = await asyncio.to_thread(push_forged, stack.registry, "evil/decoy", "1", [EMPTY], [diff_id(REAL)])
    async with aiohttp.ClientSession() as http:
        await _scan(http, stack.api_url, real.reference)
        await _assert_real(http, stack.api_url, pg_dsn, real.digest)
        verified = await query(pg_dsn, "SELECT digest, diff_id FROM layer_verified")
        assert [r["diff_id"] for r in verified] == [diff_id(REAL)]

        await _scan(http, stack.api_url, decoy.reference)
        await _assert_refused(http, stack.api_url, pg_dsn, decoy.digest)
        # the decoy's blob was downloaded (its claim was never verified), never trusted
        assert len(await query(pg_dsn, "SELECT digest FROM layer_verified")) == 1

        # the real image scanned again is still answered right
        await _scan(http, stack.api_url, real.reference)
        await _assert_real(http, stack.api_url, pg_dsn, real.digest)
