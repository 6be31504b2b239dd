"""Hostile network: the admission webhook as an attacker in the cluster would use it (issue 11).

A real api on real NATS and PostgreSQL; registries are either absent (inward
addresses that must never be contacted) or small hostile HTTP servers.
"""

from __future__ import annotations

import hashlib
import json

import aiohttp
import pytest
from aiohttp import web

from conftest import ADMISSION_TOKEN
from harness.stack import Stack
from hostile.netfakes import http_peer, index_bytes, listener, manifest_bytes, manifest_response
from imagewatch.models import Finding, LayerRef
from imagewatch.store import findings as finding_store
from imagewatch.store import images as image_store
from imagewatch.store.db import connect_pool

AUTH = {"Authorization": f"Bearer {ADMISSION_TOKEN}"}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def pod(*images: str, spec_extra: dict | None = None, uid: str = "uid-1") -> dict:
    spec = {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)], **(spec_extra or {})}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "namespace": "shop", "operation": "CREATE",
                        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}}}


def affinity(operator: str, *archs: str) -> dict:
    expr = {"key": "kubernetes.io/arch", "operator": operator, "values": list(archs)}
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [expr]}]}}}}


def critical(advisory: str = "CVE-2099-0001") -> Finding:
    return Finding(advisory_id=advisory, ids=[advisory], package="openssl", version="1.0", ecosystem="Debian",
                   severity="critical", fixed_versions=["1.1"])


async def record(pool, digest: str, *, registry: str, repository: str, tag: str = "", platform: str = "linux/amd64",
                 index_digest: str = "", findings: list[Finding] | None = None) -> None:
    """An image as the pipeline records it, matched (with ``findings``)."""
    layer = LayerRef(digest="sha256:" + hashlib.sha256(digest.encode()).hexdigest(),
                     diff_id="sha256:" + hashlib.sha256(digest.encode() + b"d").hexdigest(), size=1,
                     media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    async with pool.acquire() as conn:
        await image_store.record_image(conn, digest=digest, registry=registry, repository=repository,
                                       media_type=OCI_MANIFEST, platform=platform,
                                       config_digest="sha256:" + "c" * 64, config=None, index_digest=index_digest,
                                       layers=[layer], tag=tag)
        await image_store.init_stages(conn, digest)
        await image_store.set_stage(conn, digest, "matcher", "done")
        if findings:
            await finding_store.replace_findings(conn, digest, findings)


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


async def post(api, body=None, *, data: bytes | None = None, headers=AUTH) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(api.api_url + "/v1/admission", json=None if data is not None else body,
                             data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


async def judged(api, body) -> dict:
    status, answer = await post(api, body)
    assert status == 200, answer
    assert answer["response"]["uid"] == body["request"]["uid"]
    return answer["response"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer "}, {"Authorization": f"Bearer {ADMISSION_TOKEN[:-1]}"},
    {"Authorization": f"Bearer {ADMISSION_TOKEN}x"}, {"Authorization": f"Basic {ADMISSION_TOKEN}"},
    {"Authorization": "Bearer test-token-0123456789abcdef"},  # the webhook token is not the admission token
])
async def test_admission_without_its_token_is_401(api, headers):
    status, _ = await post(api, pod("nginx"), headers=headers)
    assert status == 401


@pytest.mark.parametrize("image", [
    "169.254.169.254/latest/meta-data:1", "127.0.0.1:{port}/x:1", "10.0.0.7:5000/x:1", "192.168.0.1/x:1",
    "localhost:{port}/x:1", "[::1]:{port}/x:1", "100.100.100.200/x:1",
])
async def test_pod_naming_an_inward_registry_is_denied_without_connecting(api, image, capsys):
    async with listener() as ssh:
        answer = await judged(api, pod(image.format(port=ssh.port)))
        assert ssh.connections == 0
    # refused by the egress policy before any connection (the api logs only the error's type)
    assert "EgressRefused" in capsys.readouterr().out
    message = answer["status"]["message"]
    assert answer["allowed"] is False and "not scanned (unknown tag; registry unreachable)" in message
    assert "refused" not in message and "SSH" not in message and "Errno" not in message


async def test_every_lookup_failure_gives_the_same_reason(api, config):
    # a closed port, a port speaking something else and a 500: nothing tells them apart
    async with listener() as ssh, http_peer(lambda r, p: web.Response(status=500, text="db password wrong")) as broken:
        closed = "127.0.0.1:9"
        config.fetcher.insecure_registries = [closed, ssh.host, broken.host]
        reasons = set()
        for host in (closed, ssh.host, broken.host):
            message = (await judged(api, pod(f"{host}/team/app:1")))["status"]["message"]
            reasons.add(message.split(": not scanned ")[1])
    assert reasons == {"(unknown tag; registry unreachable)"}


async def test_a_two_mebibyte_review_is_judged(api):
    body = pod("169.254.169.254/x:1")
    body["request"]["object"]["metadata"]["annotations"] = {"padding": "x" * (2 * 1024 * 1024)}
    answer = await judged(api, body)
    assert answer["allowed"] is False and "not scanned" in answer["status"]["message"]


async def test_a_review_over_three_mebibytes_is_denied_not_errored(api):
    body = pod("nginx")
    body["request"]["object"]["metadata"]["annotations"] = {"padding": "x" * (3 * 1024 * 1024)}
    status, answer = await post(api, body)
    assert status == 200 and answer["response"]["allowed"] is False
    assert "exceeds" in answer["response"]["status"]["message"]


@pytest.mark.parametrize("spec_extra, reason", [
    ({"containers": "nginx"}, "expected a list"),
    ({"containers": [{"name": "a"}]}, "image"),
    ({"affinity": "arm64"}, "expected an object"),
])
async def test_malformed_pod_spec_is_denied_inside_the_review(api, spec_extra, reason):
    body = pod("nginx", spec_extra=spec_extra)
    answer = await judged(api, body)
    assert answer["allowed"] is False and reason in answer["status"]["message"]


async def test_database_failure_is_denied_inside_the_review(api, config, pool):
    async with pool.acquire() as conn:
        await conn.execute("ALTER TABLE image_tags RENAME TO image_tags_gone")
    config.admission.tag_source = "database"
    try:
        answer = await judged(api, pod("reg.example:5000/team/app:1"))
    finally:
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE image_tags_gone RENAME TO image_tags")
    assert answer["allowed"] is False and "internal error" in answer["status"]["message"]


async def test_node_affinity_to_arm64_judges_the_arm64_image(api, config, pool):
    config.admission.tag_source = "database"
    await record(pool, "sha256:" + "a" * 64, registry="reg.example:5000", repository="team/web", tag="1",
                 platform="linux/amd64")
    await record(pool, "sha256:" + "b" * 64, registry="reg.example:5000", repository="team/web", tag="1",
                 platform="linux/arm64/v8", findings=[critical()])
    image = "reg.example:5000/team/web:1"
    assert (await judged(api, pod(image)))["allowed"] is True
    denied = await judged(api, pod(image, spec_extra=affinity("In", "arm64")))
    assert denied["allowed"] is False and "[linux/arm64]" in denied["status"]["message"]


async def test_unsure_affinity_judges_every_platform_of_the_index(api, config, pool):
    amd, amd_digest = manifest_bytes("amd")
    arm, arm_digest = manifest_bytes("arm")
    index, index_digest = index_bytes([(amd_digest, "linux/amd64", {}), (arm_digest, "linux/arm64", {})])
    blobs = {amd_digest: (amd, OCI_MANIFEST), arm_digest: (arm, OCI_MANIFEST), "1": (index, OCI_INDEX),
             index_digest: (index, OCI_INDEX)}

    def registry(request, peer):
        ref = request.path.rsplit("/", 1)[1]
        if ref not in blobs:
            return web.json_response({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, status=404)
        data, media_type = blobs[ref]
        return manifest_response(data, "sha256:" + hashlib.sha256(data).hexdigest(), media_type)

    async with http_peer(registry) as reg:
        config.fetcher.insecure_registries = [reg.host]
        await record(pool, amd_digest, registry=reg.host, repository="team/multi", platform="linux/amd64",
                     index_digest=index_digest)  # only amd64 was scanned
        image = f"{reg.host}/team/multi:1"
        assert (await judged(api, pod(image)))["allowed"] is True
        answer = await judged(api, pod(image, spec_extra=affinity("NotIn", "s390x")))
    message = answer["status"]["message"]
    assert answer["allowed"] is False and "[linux/arm64]" in message and "never scanned" in message


async def test_index_with_two_entries_for_one_platform_is_denied(api, config, pool):
    clean, clean_digest = manifest_bytes("clean")
    bad, bad_digest = manifest_bytes("bad")
    index, index_digest = index_bytes([(clean_digest, "linux/amd64", {}), (bad_digest, "linux/amd64", {})])

    async with http_peer(lambda r, p: manifest_response(index, index_digest, OCI_INDEX)) as reg:
        config.fetcher.insecure_registries = [reg.host]
        await record(pool, clean_digest, registry=reg.host, repository="team/dup", platform="linux/amd64",
                     index_digest=index_digest)
        answer = await judged(api, pod(f"{reg.host}/team/dup:1"))
    assert answer["allowed"] is False and "two manifests for one platform" in answer["status"]["message"]


async def test_attestation_annotation_does_not_hide_a_real_platform(api, config, pool):
    clean, clean_digest = manifest_bytes("decoy")
    real, real_digest = manifest_bytes("real")
    index, index_digest = index_bytes([
        (clean_digest, "linux/arm64", {}),
        (real_digest, "linux/amd64", {"vnd.docker.reference.type": "attestation-manifest"}),
    ])
    blobs = {real_digest: real, clean_digest: clean}

    def registry(request, peer):
        ref = request.path.rsplit("/", 1)[1]
        if ref in blobs:
            return manifest_response(blobs[ref], ref, OCI_MANIFEST)
        return manifest_response(index, index_digest, OCI_INDEX)

    async with http_peer(registry) as reg:
        config.fetcher.insecure_registries = [reg.host]
        await record(pool, real_digest, registry=reg.host, repository="team/att", platform="linux/amd64",
                     findings=[critical()])
        answer = await judged(api, pod(f"{reg.host}/team/att:1"))
    assert answer["allowed"] is False and "1 critical" in answer["status"]["message"]


async def test_tag_is_resolved_at_the_registry_not_from_a_rebound_database(api, config, pool):
    old, old_digest = manifest_bytes("old-clean")
    new, new_digest = manifest_bytes("new-unscanned")

    async with http_peer(lambda r, p: manifest_response(new, new_digest, OCI_MANIFEST)) as reg:
        config.fetcher.insecure_registries = [reg.host]
        # someone asked for a scan of tag@old-digest: the database says the tag is the clean old image
        await record(pool, old_digest, registry=reg.host, repository="team/app", tag="1")
        answer = await judged(api, pod(f"{reg.host}/team/app:1"))
    assert answer["allowed"] is False and "never scanned" in answer["status"]["message"]
    assert new_digest[:19] in answer["status"]["message"]


async def test_registry_lookups_per_review_are_capped(api, config):
    async with http_peer(lambda r, p: web.json_response({"errors": []}, status=404)) as reg:
        config.fetcher.insecure_registries = [reg.host]
        config.admission.max_lookups = 3
        images = [f"{reg.host}/team/app{i}:1" for i in range(12)]
        answer = await judged(api, pod(*images))
        assert len(reg.requests) <= 3
    message = answer["status"]["message"]
    assert answer["allowed"] is False and message.count("too many images to look up") == 9


async def test_admission_served_over_tls_requiring_a_client_certificate(config, pool, tmp_path):
    import ssl

    from hostile.netfakes import make_ca, make_leaf

    ca_key, ca_cert = make_ca(tmp_path, "ca")
    make_leaf(tmp_path, "server", ca_key, ca_cert, "127.0.0.1")
    make_leaf(tmp_path, "client", ca_key, ca_cert, "kube-apiserver")
    config.api.tls_cert_file = str(tmp_path / "server.crt")
    config.api.tls_key_file = str(tmp_path / "server.key")
    config.api.tls_client_ca_file = str(tmp_path / "ca.crt")
    stack = await Stack(config).start("api")
    url = f"https://127.0.0.1:{config.api.port}/v1/admission"
    try:
        no_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with_cert.load_cert_chain(str(tmp_path / "client.crt"), str(tmp_path / "client.key"))
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientError):
                async with http.post(url, json=pod("nginx"), headers=AUTH, ssl=no_cert) as resp:
                    await resp.read()
            async with http.post(url, data=json.dumps(pod("169.254.169.254/x:1")), headers=AUTH,
                                 ssl=with_cert) as resp:
                answer = await resp.json()
        assert resp.status == 200 and answer["response"]["allowed"] is False
    finally:
        await stack.stop()
