"""The harness itself: the registry sends push notifications, with our headers, and no pulls."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from harness.images import ImageSpec, push_image
from harness.registry import run_registry

from .conftest import make_client

pytestmark = pytest.mark.timeout(120)

MANIFEST_TYPES = {"application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json"}


async def _wait_for(predicate, deadline: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.05)


async def test_push_notifications_reach_the_endpoint(tools, tmp_path, session):
    received: list[tuple[str, dict]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        received.extend((request.headers.get("Authorization", ""), e) for e in body["events"])
        return web.Response()

    app = web.Application()
    app.router.add_post("/events", receive)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    try:
        url = f"http://127.0.0.1:{receiver.port}/events"
        with run_registry(tmp_path / "reg", notify_url=url, notify_headers={"Authorization": "Bearer T"}) as reg:
            first = await asyncio.to_thread(push_image, reg.host, "team/app", "1", ImageSpec(layers=[{"/a": b"a"}]))
            await make_client(session, reg.host).pull_images(reg.ref("team/app", "1"))
            second = await asyncio.to_thread(
                push_image, reg.host, "team/app", "2", ImageSpec(layers=[{"/b": b"b"}]), docker_v2=True)

            def manifest_pushes():
                return [e for _, e in received
                        if e["action"] == "push" and e["target"]["mediaType"] in MANIFEST_TYPES]

            await _wait_for(lambda: second.digest in {e["target"]["digest"] for e in manifest_pushes()})
    finally:
        await receiver.close()
    pushes = {(e["target"]["digest"], e["target"].get("tag")) for e in manifest_pushes()}
    assert {(first.digest, "1"), (second.digest, "2")} <= pushes
    assert {auth for auth, _ in received} == {"Bearer T"}
    assert not [e for _, e in received if e["action"] == "pull"]
