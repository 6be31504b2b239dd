"""Fixtures for the query API and admission tests: a running api and a store to fill."""

from __future__ import annotations

import hashlib

import aiohttp
import pytest

from harness.stack import Stack
from imagewatch.models import Finding, LayerRef
from imagewatch.store import findings as finding_store
from imagewatch.store import images as image_store
from imagewatch.store.db import connect_pool

AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}


def digest_of(name: str) -> str:
    """A stable fake digest for a test image name."""
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def finding(advisory: str, severity: str, fixed: bool = True, package: str = "openssl") -> Finding:
    """A vulnerability finding; ``fixed`` gives it a fixed version."""
    return Finding(advisory_id=advisory, ids=[advisory], package=package, version="1.0",
                   ecosystem="Debian", severity=severity, fixed_versions=["1.1"] if fixed else [])


async def add_image(pool, name: str, *, registry: str = "reg.example:5000", repository: str = "team/app",
                    tag: str = "", platform: str = "linux/amd64", findings: list[Finding] | None = None,
                    matcher: str | None = "done", index_digest: str = "", digest: str = "") -> str:
    """Record an image through the store functions, optionally matched with findings."""
    digest = digest or digest_of(name)
    layer = LayerRef(digest=digest_of(name + "-layer"), diff_id=digest_of(name + "-diff"), size=10,
                     media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    async with pool.acquire() as conn:
        await image_store.record_image(
            conn, digest=digest, registry=registry, repository=repository,
            media_type="application/vnd.oci.image.manifest.v1+json", platform=platform,
            config_digest=digest_of(name + "-config"), config=None, index_digest=index_digest,
            layers=[layer], tag=tag)
        await image_store.init_stages(conn, digest)
        if matcher:
            await image_store.set_stage(conn, digest, "matcher", matcher,
                                        "advisory store unavailable" if matcher == "failed" else None)
        if findings:
            await finding_store.replace_findings(conn, digest, findings)
    return digest


@pytest.fixture
async def pool(config):
    p = await connect_pool(config.database.url, 1, 4)
    yield p
    await p.close()


@pytest.fixture
async def api(config, pool):
    stack = await Stack(config).start("api")
    yield stack
    await stack.stop()


async def call(api, method: str, path: str, body=None, headers=None, data=None):
    """(status, decoded JSON body) of one request to the running api."""
    async with aiohttp.ClientSession() as http:
        async with http.request(method, api.api_url + path, json=body, data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)
