"""Guards of the api that the fixtures did not pin down.

* Every route that takes the bearer token (found by walking the router and
  asking each route without a token) refuses a prefix of the token, the token
  with extra characters, an empty token and other schemes.
* A registry's repeated event (same event id) is published once and fetched
  once: counted in the stream and in the fetcher's attempts, waiting by
  polling the consumer, never by a fixed sleep.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.messages import SUBJECT_PUSH
from imagewatch_services.api.app import build_app

TOKEN = "test-token-0123456789abcdef"
HARBOR_TOKEN = "harbor-adapter-token-0123456789"
FILL = {"source": "distribution", "digest": "sha256:" + "0" * 64, "id": "1"}


def _routes(ctx) -> list[tuple[str, str]]:
    out = []
    for route in build_app(ctx).router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if route.method in ("GET", "POST") and path:
            out.append((route.method, re.sub(r"\{(\w+)\}", lambda m: FILL.get(m.group(1), "x"), path)))
    return out


async def _status(http: aiohttp.ClientSession, base: str, method: str, path: str, auth: str | None) -> int:
    headers = {"Authorization": auth} if auth is not None else {}
    async with http.request(method, base + path, json={}, headers=headers) as resp:
        return resp.status


def _wrong(token: str) -> list[str]:
    return [token[:-1], token[:1], token + "x", token + token, "x" + token, "", token.upper()]


def _other_schemes(token: str) -> list[str]:
    return [f"Basic {token}", f"Token {token}", token, f"Bearer{token}", f"Bearer {token} {token}"]


ADMISSION_TOKEN = "admission-test-0123456789abcdef"  # tests/conftest.py


def _token_for(path: str) -> str:
    """The Harbor adapter and admission have their own tokens (the ones Harbor and the API server hold)."""
    if path.startswith("/harbor/"):
        return HARBOR_TOKEN
    return ADMISSION_TOKEN if path == "/v1/admission" else TOKEN


async def test_every_bearer_route_refuses_near_misses(config):
    config.harbor.token = HARBOR_TOKEN
    stack = await Stack(config).start("api")
    try:
        async with aiohttp.ClientSession() as http:
            bearer = []
            for method, path in _routes(stack.services["api"].ctx):
                if await _status(http, stack.api_url, method, path, None) == 401:
                    bearer.append((method, path))
            assert {("POST", "/v1/events/distribution"), ("POST", "/v1/scans"), ("GET", "/v1/dlq"),
                    ("POST", "/v1/dlq/1/retry")} <= set(bearer)
            for method, path in bearer:
                token = _token_for(path)
                assert await _status(http, stack.api_url, method, path, f"Bearer {token}") != 401, path
                for given in _wrong(token):
                    status = await _status(http, stack.api_url, method, path, f"Bearer {given}")
                    assert status == 401, f"{method} {path} accepted Bearer {given!r}"
                for header in _other_schemes(token):
                    status = await _status(http, stack.api_url, method, path, header)
                    assert status == 401, f"{method} {path} accepted {header!r}"
    finally:
        await stack.stop()


def _event(event_id: str, host: str, repository: str, digest: str, tag: str) -> dict:
    return {"events": [{"id": event_id, "action": "push", "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "repository": repository,
        "tag": tag, "url": f"http://{host}/v2/{repository}/manifests/{digest}"}}]}


@pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
async def test_a_repeated_registry_event_is_published_and_fetched_once(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        one = await asyncio.to_thread(push_image, reg.host, "team/one", "1", ImageSpec(layers=[{"a": b"1"}]))
        two = await asyncio.to_thread(push_image, reg.host, "team/two", "1", ImageSpec(layers=[{"b": b"2"}]))
        stack = await Stack(config).start("api", "fetcher")
        try:
            async with aiohttp.ClientSession() as http:
                posts = [_event("dup-1", reg.host, "team/one", one.digest, "1")] * 3
                posts.append(_event("other-2", reg.host, "team/two", two.digest, "1"))
                for body in posts:
                    async with http.post(f"{stack.api_url}/v1/events/distribution", json=body,
                                         headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
                        assert resp.status == 202
            bus = stack.services["fetcher"].ctx.bus
            info = await bus.js.stream_info(config.bus.stream, subjects_filter=SUBJECT_PUSH)
            assert info.state.subjects == {SUBJECT_PUSH: 2}  # the repeated event is stored once

            async def settled():
                fetched = await query(pg_dsn, "SELECT count(*) AS n FROM scan_stages WHERE stage = 'fetcher' "
                                              "AND state = 'done'")
                return fetched[0]["n"] == 2 and await bus.consumer_pending("fetcher", SUBJECT_PUSH) == 0
            await wait_for(settled, what="both images fetched and nothing pending")
            rows = await query(pg_dsn, "SELECT image_digest, attempts FROM scan_stages WHERE stage = 'fetcher'")
            assert {r["image_digest"]: r["attempts"] for r in rows} == {one.digest: 1, two.digest: 1}
        finally:
            await stack.stop()
