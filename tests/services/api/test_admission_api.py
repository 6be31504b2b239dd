"""``POST /v1/admission`` against a real api, PostgreSQL and (for unknown tags) a small registry."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from aiohttp import web

from conftest import ADMISSION_TOKEN

from .conftest import add_image, call, digest_of, finding

DATA = Path(__file__).parent / "data"
DEAD_REGISTRY = "127.0.0.1:9"  # nothing listens: the registry lookup fails at once
ADMISSION_AUTH = {"Authorization": f"Bearer {ADMISSION_TOKEN}"}


def pod(*images: str, namespace: str = "shop", uid: str = "uid-1", init: tuple[str, ...] = ()) -> dict:
    spec = {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": im} for i, im in enumerate(init)]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "namespace": namespace, "operation": "CREATE",
                        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}}}


async def admit(api, body) -> dict:
    status, answer = await call(api, "POST", "/v1/admission", body, headers=ADMISSION_AUTH)
    assert status == 200, answer
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == body["request"]["uid"]
    return answer["response"]


@pytest.fixture(autouse=True)
def no_registry(config):
    config.fetcher.insecure_registries = [DEAD_REGISTRY]
    # these tests judge tags recorded in the database (reg.example does not exist); the
    # default, tags resolved at the registry, is tested in tests/hostile/test_network_admission.py
    config.admission.tag_source = "database"


async def test_allowed_and_denied_by_tag(api, pool):
    await add_image(pool, "ok", repository="team/ok", tag="1.0", findings=[finding("CVE-1", "high")])
    await add_image(pool, "bad", repository="team/bad", tag="1.0",
                    findings=[finding("CVE-2", "critical"), finding("CVE-3", "critical", fixed=False),
                              finding("CVE-4", "low")])
    ok = await admit(api, pod("reg.example:5000/team/ok:1.0"))
    assert ok["allowed"] is True and "status" not in ok
    assert any("1 high findings" in w for w in ok["warnings"])

    bad = await admit(api, pod("reg.example:5000/team/ok:1.0", "reg.example:5000/team/bad:1.0", uid="uid-2"))
    assert bad["allowed"] is False and bad["status"]["code"] == 403
    message = bad["status"]["message"]
    assert "denied 1 of 2 image(s)" in message
    assert "c1=reg.example:5000/team/bad:1.0" in message and "2 critical findings at or above critical" in message
    assert "team/ok" not in message


async def test_only_fixable_and_lower_threshold(api, pool, config):
    await add_image(pool, "unfixed", repository="team/u", tag="1",
                    findings=[finding("CVE-5", "critical", fixed=False), finding("CVE-6", "medium")])
    config.admission.only_fixable = True
    assert (await admit(api, pod("reg.example:5000/team/u:1")))["allowed"] is True
    config.admission.severity_threshold = "medium"
    denied = await admit(api, pod("reg.example:5000/team/u:1"))
    assert not denied["allowed"] and "1 medium fixable findings at or above medium" in denied["status"]["message"]


async def test_unscanned_denied_or_warned(api, pool, config):
    await add_image(pool, "running", repository="team/run", tag="1", matcher="running")
    await add_image(pool, "failed", repository="team/fail", tag="1", matcher="failed")
    body = pod(f"{DEAD_REGISTRY}/team/never:1", "reg.example:5000/team/run:1", "reg.example:5000/team/fail:1")
    denied = await admit(api, body)
    message = denied["status"]["message"]
    assert denied["allowed"] is False and "denied 3 of 3" in message
    assert f"c0={DEAD_REGISTRY}/team/never:1: not scanned (unknown tag; registry unreachable)" in message
    assert "not scanned (scan not finished)" in message
    assert "not scanned (scan failed: advisory store unavailable)" in message

    config.admission.deny_unscanned = False
    warned = await admit(api, body)
    assert warned["allowed"] is True and len(warned["warnings"]) == 3
    assert all("is not scanned" in w and w.endswith("allowed") for w in warned["warnings"])


async def test_exempt_namespace_and_repository(api, pool, config):
    never = f"{DEAD_REGISTRY}/team/never:1"
    exempt = await admit(api, pod(never, namespace="kube-system"))
    assert exempt == {"uid": "uid-1", "allowed": True}
    assert (await admit(api, pod(never)))["allowed"] is False
    config.admission.exempt_repositories = [f"{DEAD_REGISTRY}/team/*"]
    assert await admit(api, pod(never)) == {"uid": "uid-1", "allowed": True}


async def test_deployment_template_with_init_containers(api, pool, config):
    config.admission.exempt_repositories = ["docker.io/library/*"]
    # the pod template asks for arm64: the tag's arm64 image counts, not the amd64 one
    await add_image(pool, "web-amd64", repository="team/web", tag="1.0", platform="linux/amd64",
                    findings=[finding("CVE-7", "critical")])
    await add_image(pool, "web-arm64", repository="team/web", tag="1.0", platform="linux/arm64/v8")
    await add_image(pool, "migrate", repository="team/migrate", tag="2.0", platform="linux/arm64/v8",
                    findings=[finding("CVE-8", "critical")])
    body = json.loads((DATA / "deployment_review.json").read_text())
    denied = await admit(api, body)
    message = denied["status"]["message"]
    assert denied["allowed"] is False and "denied 1 of 2 image(s)" in message
    assert message.count("critical") == 2 and "migrate=reg.example:5000/team/migrate:2.0" in message

    fixed = copy.deepcopy(body)
    spec = fixed["request"]["object"]["spec"]["template"]["spec"]
    spec["initContainers"][0]["image"] = "reg.example:5000/team/web:1.0"
    assert (await admit(api, fixed))["allowed"] is True


async def test_digest_and_index_digest(api, pool):
    index = digest_of("index")
    child = await add_image(pool, "child", repository="team/multi", index_digest=index,
                            findings=[finding("CVE-9", "critical")])
    by_child = await admit(api, pod(f"reg.example:5000/team/multi@{child}"))
    by_index = await admit(api, pod(f"reg.example:5000/team/multi:latest@{index}"))
    for answer in (by_child, by_index):
        assert answer["allowed"] is False and "1 critical findings" in answer["status"]["message"]
    assert child[:19] in by_index["status"]["message"]


async def test_unknown_tag_resolved_at_the_registry(api, pool, config):
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of("cfg"), "size": 2},
        "layers": []}).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()

    async def manifests(request: web.Request) -> web.Response:
        if request.match_info["ref"] not in ("1.0", digest):
            return web.json_response({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, status=404)
        return web.Response(body=manifest, headers={
            "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest})

    app = web.Application()
    app.add_routes([web.get("/v2/team/fresh/manifests/{ref}", manifests)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host = f"127.0.0.1:{runner.addresses[0][1]}"
    config.fetcher.insecure_registries = [host]
    try:
        # scanned without a tag (e.g. pushed by digest): only the registry knows the tag points at it
        await add_image(pool, "fresh", registry=host, repository="team/fresh", digest=digest,
                        findings=[finding("CVE-10", "critical")])
        answer = await admit(api, pod(f"{host}/team/fresh:1.0"))
        assert answer["allowed"] is False and "1 critical findings" in answer["status"]["message"]
        missing = await admit(api, pod(f"{host}/team/fresh:2.0"))
        assert missing["allowed"] is False and "not found at the registry" in missing["status"]["message"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("data, reason", [
    (b"{not json", "admission: malformed JSON"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "request: expected an object"),
    (json.dumps(pod("nginx") | {"apiVersion": "v1"}).encode(), "expected apiVersion"),
    (json.dumps({**pod("x"), "request": {**pod("x")["request"], "uid": ""}}).encode(), "request.uid"),
])
async def test_malformed_review_is_denied_inside_the_review(api, data, reason):
    # issue 11: every error is answered inside the review (allowed: false), never a 4xx the
    # API server would handle by its failurePolicy
    status, answer = await call(api, "POST", "/v1/admission", data=data,
                                headers={"Content-Type": "application/json", **ADMISSION_AUTH})
    assert status == 200 and answer["response"]["allowed"] is False
    assert reason in answer["response"]["status"]["message"]


async def test_non_pod_kinds_allowed(api):
    body = pod("x")
    body["request"]["kind"]["kind"] = "ConfigMap"
    body["request"]["object"] = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}
    assert await admit(api, body) == {"uid": "uid-1", "allowed": True}
