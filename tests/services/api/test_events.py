"""The webhook endpoint: auth, validation, each registry format, and 503 when NATS is down."""

from __future__ import annotations

import aiohttp
import nats
import pytest

from harness.stack import Stack
from imagewatch.cli.embedded import EmbeddedNats
from imagewatch.messages import SUBJECT_PUSH, PushEvent, decoder_for

AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
DIGEST = "sha256:" + "ab" * 32
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def distribution(action="push", media_type=MANIFEST, **target):
    t = {"mediaType": media_type, "digest": DIGEST, "repository": "team/app", "tag": "1.0",
         "url": f"http://reg.example:5000/v2/team/app/manifests/{DIGEST}", **target}
    return {"events": [{"id": f"ev-{action}-{media_type[-10:]}", "action": action, "target": t,
                        "request": {"host": "reg.example:5000"}}]}


@pytest.fixture
async def api(config):
    stack = await Stack(config).start("api")
    yield stack
    await stack.stop()


async def _published(nats_url: str) -> list[PushEvent]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(SUBJECT_PUSH, ordered_consumer=True)
        out = []
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except nats.errors.TimeoutError:
                return out
            out.append(decoder_for(PushEvent).decode(msg.data))
    finally:
        await nc.close()


async def post(api, path, body=None, headers=AUTH, data=None):
    async with aiohttp.ClientSession() as http:
        async with http.post(api.api_url + path, json=body, data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


async def test_auth_required(api, nats_url):
    assert (await post(api, "/v1/events/distribution", distribution(), headers={}))[0] == 401
    bad = {"Authorization": "Bearer nope"}
    assert (await post(api, "/v1/events/distribution", distribution(), headers=bad))[0] == 401
    assert (await post(api, "/v1/scans", {"reference": "r:5000/a:1"}, headers={}))[0] == 401
    assert await _published(nats_url) == []


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "malformed JSON"),
    (b'{"events": "nope"}', "body.events: expected list"),
    (b'{"events": [{"action": "push"}]}', "events[0].target: missing"),
    (b'{"events": [{"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",'
     b' "repository": "a", "digest": "md5:1"}}]}', "not a sha256 digest"),
    (b"[]", "expected an object"),
])
async def test_malformed_is_400_with_reason_and_nothing_published(api, nats_url, body, reason):
    status, answer = await post(api, "/v1/events/distribution", data=body,
                                headers={**AUTH, "Content-Type": "application/json"})
    assert status == 400 and reason in answer["error"]
    assert await _published(nats_url) == []


async def test_distribution_drops_pulls_blobs_and_deletes(api, nats_url):
    for body in (distribution(action="pull"), distribution(action="delete"),
                 distribution(media_type="application/vnd.oci.image.layer.v1.tar+gzip"),
                 distribution(action="mount")):
        status, answer = await post(api, "/v1/events/distribution", body)
        assert status == 200 and answer["accepted"] == 0
    assert await _published(nats_url) == []


async def test_each_format_normalised(api, nats_url):
    cases = {
        "distribution": distribution(),
        "harbor": {"type": "PUSH_ARTIFACT", "occur_at": 1, "event_data": {
            "resources": [{"digest": DIGEST, "tag": "2.0", "resource_url": "harbor.example/lib/web:2.0"}],
            "repository": {"name": "web", "namespace": "lib", "repo_full_name": "lib/web"}}},
        "quay": {"repository": "org/api", "namespace": "org", "name": "api",
                 "docker_url": "quay.io/org/api", "updated_tags": ["3.0"]},
        "dockerhub": {"push_data": {"tag": "4.0", "pushed_at": 1700000000},
                      "repository": {"repo_name": "alice/tool"}},
        "cloudevents": {"specversion": "1.0", "id": "ce-1", "type": "registry.image.pushed",
                        "source": "/reg", "data": {"reference": f"reg.example/team/ce:5.0@{DIGEST}"}},
    }
    for name, body in cases.items():
        status, answer = await post(api, f"/v1/events/{name}", body)
        assert status == 202, (name, answer)
    events = {e.source: e for e in await _published(nats_url)}
    assert (events["distribution"].registry, events["distribution"].repository,
            events["distribution"].digest) == ("reg.example:5000", "team/app", DIGEST)
    assert (events["harbor"].registry, events["harbor"].repository, events["harbor"].tag) == (
        "harbor.example", "lib/web", "2.0")
    assert (events["quay"].registry, events["quay"].repository, events["quay"].tag) == ("quay.io", "org/api", "3.0")
    assert (events["dockerhub"].registry, events["dockerhub"].repository) == ("docker.io", "alice/tool")
    assert events["cloudevents"].digest == DIGEST and events["cloudevents"].tag == "5.0"


async def test_unknown_source_and_manual_scan(api, nats_url):
    assert (await post(api, "/v1/events/gitlab", {}))[0] == 404
    status, answer = await post(api, "/v1/scans", {"reference": "reg.example:5000/team/app:7"})
    assert status == 202 and answer["reference"] == "reg.example:5000/team/app:7"
    assert (await post(api, "/v1/scans", {"ref": "x"}))[0] == 400
    [event] = await _published(nats_url)
    assert (event.source, event.registry, event.tag) == ("manual", "reg.example:5000", "7")


async def test_nats_down_is_503(config, tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()
    config.bus.url = server.url
    stack = await Stack(config).start("api")
    try:
        server.stop()
        status, answer = await post(stack, "/v1/events/distribution", distribution())
        assert status == 503 and "retry" in answer["error"]
    finally:
        await stack.stop()


async def test_body_over_limit_is_refused(config, nats_url):
    config.api.max_body_bytes = 1024
    stack = await Stack(config).start("api")
    try:
        big = distribution(padding="x" * 4096)
        status, _ = await post(stack, "/v1/events/distribution", big)
        assert status == 413
        assert await _published(nats_url) == []
    finally:
        await stack.stop()
