"""Retries, error statuses and verification against a fake upstream.

The fake is a tiny aiohttp app that answers only what docker-registry cannot
be made to answer on demand (5xx, 429, wrong digests, cut-off bodies); the
registry itself is tested in test_registry_client.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from harness.registry import free_port
from imagewatch.oci.egress import EgressPolicy
from imagewatch.oci import (
    DigestMismatch, Forbidden, RateLimited, RegistryClient, RegistryLimits, RegistryUnavailable,
    UnsupportedMediaType,
)
from imagewatch.oci import mediatypes

MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
    "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:" + "c" * 64, "size": 2},
    "layers": [],
}).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
BLOB = b"layer bytes " * 1000
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


def _manifest(headers: dict | None = None, body: bytes = MANIFEST, media_type: str = mediatypes.OCI_MANIFEST):
    return web.Response(body=body, content_type=media_type, headers=headers or {})


class Upstream:
    """Answers each request with the next handler in ``script`` (the last one repeats)."""

    def __init__(self, script: list[Callable[[web.Request], object]]) -> None:
        self.script = script
        self.calls = 0

    async def handle(self, request: web.Request):
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        result = step(request)
        return await result if hasattr(result, "__await__") else result


@pytest.fixture
async def fake():
    servers = []

    async def start(*script) -> tuple[str, Upstream]:
        upstream = Upstream(list(script))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", upstream.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"127.0.0.1:{server.port}", upstream

    yield start
    for server in servers:
        await server.close()


def _client(session, host: str, delays: list[float], retries: int = 3, insecure: bool = True) -> RegistryClient:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    limits = RegistryLimits(retries=retries, backoff_base=0.5, backoff_max=4.0)
    # a loopback fake registry: configured (insecure, or allowed over https) as the egress policy asks
    egress = EgressPolicy.of(allowed=[host])
    return RegistryClient(session, {host} if insecure else set(), None, limits, sleep=sleep, egress=egress)


async def test_5xx_then_429_with_retry_after_then_success(fake, session):
    host, upstream = await fake(
        lambda r: web.Response(status=503),
        lambda r: web.Response(status=429, headers={"Retry-After": "7"}),
        lambda r: _manifest(),
    )
    delays: list[float] = []
    fetched = await _client(session, host, delays).get_manifest(f"{host}/app:1")
    assert fetched.digest == MANIFEST_DIGEST
    assert upstream.calls == 3
    assert 0.5 <= delays[0] <= 4.0 and delays[1] == 7.0


async def test_persistent_5xx_gives_up(fake, session):
    host, upstream = await fake(lambda r: web.Response(status=500))
    delays: list[float] = []
    with pytest.raises(RegistryUnavailable, match="answered 500 after 3 attempts") as caught:
        await _client(session, host, delays, retries=2).get_manifest(f"{host}/app:1")
    assert caught.value.transient and not isinstance(caught.value, RateLimited)
    assert upstream.calls == 3 and len(delays) == 2


async def test_persistent_429_is_rate_limited(fake, session):
    host, _ = await fake(lambda r: web.Response(status=429, headers={"Retry-After": "1"}))
    delays: list[float] = []
    with pytest.raises(RateLimited, match="429"):
        await _client(session, host, delays, retries=2).get_manifest(f"{host}/app:1")
    assert delays == [1.0, 1.0]


async def test_connection_refused_is_retried_then_unavailable(session):
    host = f"127.0.0.1:{free_port()}"
    delays: list[float] = []
    with pytest.raises(RegistryUnavailable, match="unreachable"):
        await _client(session, host, delays, retries=2).get_manifest(f"{host}/app:1")
    assert len(delays) == 2


async def test_https_unless_listed_insecure(fake, session):
    host, upstream = await fake(lambda r: _manifest())
    client = _client(session, host, [], retries=0, insecure=False)
    assert client.base_url(host) == f"https://{host}"
    with pytest.raises(RegistryUnavailable, match=f"https://{host}"):
        await client.get_manifest(f"{host}/app:1")
    assert upstream.calls == 0


async def test_tag_digest_checked_against_docker_content_digest(fake, session):
    wrong = "sha256:" + "0" * 64
    host, _ = await fake(lambda r: _manifest({"Docker-Content-Digest": wrong}))
    with pytest.raises(DigestMismatch, match=f"digest {wrong}"):
        await _client(session, host, []).get_manifest(f"{host}/app:1")


async def test_manifest_by_digest_must_hash_to_it(fake, session):
    host, _ = await fake(lambda r: _manifest(body=MANIFEST + b" "))
    with pytest.raises(DigestMismatch, match=MANIFEST_DIGEST):
        await _client(session, host, []).get_manifest(f"{host}/app@{MANIFEST_DIGEST}")


async def test_schema1_is_unsupported(fake, session):
    body = b'{"schemaVersion": 1, "name": "app", "fsLayers": []}'
    host, _ = await fake(lambda r: _manifest(body=body, media_type=mediatypes.DOCKER_SCHEMA1_SIGNED))
    with pytest.raises(UnsupportedMediaType, match="prettyjws"):
        await _client(session, host, []).resolve_platforms(f"{host}/app:1")


async def test_403_is_forbidden(fake, session):
    error = {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}
    host, _ = await fake(lambda r: web.json_response(error, status=403))
    with pytest.raises(Forbidden, match="DENIED: requested access"):
        await _client(session, host, []).get_manifest(f"{host}/app:1")


async def test_blob_cut_off_mid_stream_is_fetched_again(fake, session, tmp_path):
    async def cut_off(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(BLOB))})
        await response.prepare(request)
        await response.write(BLOB[:100])
        request.transport.close()
        return response

    host, upstream = await fake(cut_off, lambda r: web.Response(body=BLOB))
    delays: list[float] = []
    target = tmp_path / "blob"
    written = await _client(session, host, delays).get_blob(f"{host}/app:1", BLOB_DIGEST, target, size=len(BLOB))
    assert written == len(BLOB) and target.read_bytes() == BLOB
    assert upstream.calls == 2 and len(delays) == 1
