"""Fetcher: a blob that fails its digest marks the scan failed; bearer-token registries work."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry, run_token_server
from harness.stack import Stack, query, wait_for
from imagewatch.config import RegistryCredential
from imagewatch.oci import Reference, RegistryClient

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}


async def _stage(dsn, digest, stage="fetcher"):
    rows = await query(dsn, "SELECT state, reason FROM scan_stages WHERE image_digest = $1 AND stage = $2",
                       digest, stage)
    return rows[0] if rows and rows[0]["state"] in ("done", "failed") else None


async def _scan(api_url, reference):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api_url}/v1/scans", json={"reference": reference}, headers=AUTH) as resp:
            assert resp.status == 202, await resp.text()


async def test_corrupted_blob_fails_scan_with_reason_and_service_keeps_running(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        bad = await asyncio.to_thread(push_image, reg.host, "team/bad", "1",
                                      ImageSpec(layers=[{"etc/passwd": b"root:x:0:0::/root:/bin/sh\n"}]))
        good = await asyncio.to_thread(push_image, reg.host, "team/good", "1",
                                       ImageSpec(layers=[{"etc/hostname": b"good\n"}]))
        async with aiohttp.ClientSession() as http:
            client = RegistryClient(http, insecure_registries={reg.host})
            [image] = await client.pull_images(Reference.parse(bad.reference))
        reg.corrupt_blob(image.layers[0].digest)

        stack = await Stack(config).start("api", "fetcher")
        try:
            await _scan(stack.api_url, bad.reference)
            row = await wait_for(lambda: _stage(pg_dsn, bad.digest), what="failed fetcher stage")
            assert row["state"] == "failed"
            assert image.layers[0].digest in row["reason"] and "digest" in row["reason"]
            await _scan(stack.api_url, good.reference)
            row = await wait_for(lambda: _stage(pg_dsn, good.digest), what="good image fetched")
            assert row["state"] == "done"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{stack.api_url}/v1/images/{bad.digest}") as resp:
                    detail = await resp.json()
            assert detail["stages"]["fetcher"]["state"] == "failed"
            assert "digest" in detail["stages"]["fetcher"]["reason"]
        finally:
            await stack.stop()


async def test_registry_with_bearer_token_auth(config, pg_dsn, tmp_path):
    (tmp_path / "token").mkdir()
    with run_token_server(tmp_path / "token", users={"ci": "s3cret-pass"}) as tokens, \
            run_registry(tmp_path / "registry", token=tokens) as reg:
        pushed = await asyncio.to_thread(push_image, reg.host, "private/app", "1",
                                         ImageSpec(layers=[{"etc/hostname": b"private\n"}]),
                                         creds=("ci", "s3cret-pass"))
        config.fetcher.insecure_registries += [reg.host, urlsplit(tokens.realm).netloc]  # realm on loopback http
        config.fetcher.credentials.append(RegistryCredential(host=reg.host, username="ci", password="s3cret-pass"))
        stack = await Stack(config).start("api", "fetcher")
        try:
            await _scan(stack.api_url, pushed.reference)
            row = await wait_for(lambda: _stage(pg_dsn, pushed.digest), what="private image fetched")
            assert row["state"] == "done"
            assert any(user == "ci" for user, _ in tokens.requests)
        finally:
            await stack.stop()


async def test_registry_refusing_credentials_fails_cleanly(config, pg_dsn, tmp_path):
    (tmp_path / "token").mkdir()
    with run_token_server(tmp_path / "token", users={"ci": "s3cret-pass"}) as tokens, \
            run_registry(tmp_path / "registry", token=tokens) as reg:
        await asyncio.to_thread(push_image, reg.host, "private/app", "1",
                                ImageSpec(layers=[{"etc/hostname": b"private\n"}]), creds=("ci", "s3cret-pass"))
        config.fetcher.insecure_registries += [reg.host, urlsplit(tokens.realm).netloc]  # realm on loopback http
        stack = await Stack(config).start("api", "fetcher")
        try:
            await _scan(stack.api_url, f"{reg.host}/private/app:1")
            rows = await wait_for(lambda: query(pg_dsn, "SELECT reason FROM scan_failures"), what="failure")
            assert "401" in rows[0]["reason"] or "unauthorized" in rows[0]["reason"].lower()
        finally:
            await stack.stop()
