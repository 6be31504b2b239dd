"""The admission library: review parsing, image normalisation and the policy, without servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagewatch.admission.policy import (
    AdmissionError,
    ContainerImage,
    ImageStatus,
    blocking_severities,
    decide,
    image_reference,
    namespace_exempt,
    normalise_image,
    parse_review,
    repository_exempt,
    review_response,
)
from imagewatch.config import AdmissionConfig

DATA = Path(__file__).parent / "data"


def review(kind: str, obj: dict, namespace: str = "shop") -> dict:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": kind},
                        "namespace": namespace, "operation": "CREATE", "object": obj}}


def pod_spec(image: str = "alpine:3.19") -> dict:
    return {"containers": [{"name": "main", "image": image}]}


@pytest.mark.parametrize("image, expected", [
    ("nginx", ("docker.io", "library/nginx", "latest", "")),
    ("nginx:1.25", ("docker.io", "library/nginx", "1.25", "")),
    ("bitnami/redis:7", ("docker.io", "bitnami/redis", "7", "")),
    ("index.docker.io/library/busybox", ("docker.io", "library/busybox", "latest", "")),
    ("localhost:5000/app", ("localhost:5000", "app", "latest", "")),
    ("registry.k8s.io/pause:3.9", ("registry.k8s.io", "pause", "3.9", "")),
    ("quay.io/org/tool@sha256:" + "a" * 64, ("quay.io", "org/tool", "", "sha256:" + "a" * 64)),
    ("ghcr.io/o/r:v1@sha256:" + "b" * 64, ("ghcr.io", "o/r", "v1", "sha256:" + "b" * 64)),
])
def test_normalise_like_docker(image, expected):
    ref = normalise_image(image)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == expected


def test_invalid_image_has_no_reference():
    assert image_reference("Not A Valid:::ref") is None


def test_deployment_template_with_init_containers_and_node_selector():
    r = parse_review(json.loads((DATA / "deployment_review.json").read_text()))
    assert (r.uid, r.kind, r.namespace, r.operation, r.name) == (
        "705ab4f5-6393-11e8-b7cc-42010a800002", "Deployment", "shop", "CREATE", "web")
    assert [(c.field, c.container, c.image) for c in r.images] == [
        ("initContainers", "migrate", "reg.example:5000/team/migrate:2.0"),
        ("containers", "web", "reg.example:5000/team/web:1.0"),
        ("containers", "proxy", "nginx"),
    ]
    assert r.platform == "linux/arm64"


@pytest.mark.parametrize("kind, wrap", [
    ("Pod", lambda s: {"spec": s}),
    ("StatefulSet", lambda s: {"spec": {"template": {"spec": s}}}),
    ("DaemonSet", lambda s: {"spec": {"template": {"spec": s}}}),
    ("ReplicaSet", lambda s: {"spec": {"template": {"spec": s}}}),
    ("Job", lambda s: {"spec": {"template": {"spec": s}}}),
    ("CronJob", lambda s: {"spec": {"jobTemplate": {"spec": {"template": {"spec": s}}}}}),
])
def test_each_workload_kind_yields_its_pod_template(kind, wrap):
    spec = {**pod_spec("app:1"), "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}
    r = parse_review(review(kind, wrap(spec)))
    assert [(c.field, c.image) for c in r.images] == [("containers", "app:1"), ("ephemeralContainers", "busybox")]
    assert r.platform == "linux/amd64"


def test_kinds_without_pod_templates_and_deletes_have_no_images():
    assert parse_review(review("ConfigMap", {"data": {"a": "b"}})).images == ()
    body = review("Pod", None)
    body["request"]["operation"] = "DELETE"
    assert parse_review(body).images == ()


@pytest.mark.parametrize("body, reason", [
    ([], "expected an AdmissionReview object"),
    ({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}}, "expected apiVersion"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "request: expected an object"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}}},
     "request.uid"),
    (review("Pod", {"spec": {"containers": "nginx"}}), "request.object.spec.containers: expected a list"),
    (review("Pod", {"spec": {"containers": [{"name": "x"}]}}), "containers[0].image"),
    (review("Deployment", {"spec": {"template": "x"}}), "request.object.spec.template: expected an object"),
])
def test_malformed_reviews_say_where(body, reason):
    with pytest.raises(AdmissionError, match="admission: ") as info:
        parse_review(body)
    assert reason in str(info.value)


def status(image: str, *, scanned=True, counts=None, fixable=None, note="") -> ImageStatus:
    return ImageStatus(image=ContainerImage("c", "containers", image), reference=image_reference(image),
                       digest="sha256:" + "c" * 64, scanned=scanned, note=note,
                       counts=counts or {}, fixable=fixable or {})


def test_policy_threshold_fixable_and_unscanned():
    policy = AdmissionConfig()
    assert blocking_severities("high") == ["critical", "high"]
    ok = decide(policy, [status("app:1", counts={"high": 2, "low": 1})])
    assert ok.allowed and ok.warnings and "2 high, 1 low findings" in ok.warnings[0]
    bad = decide(policy, [status("app:1", counts={"critical": 3, "high": 1}),
                          status("app:2", counts={"low": 1})])
    assert not bad.allowed
    assert "denied 1 of 2" in bad.message and "3 critical findings at or above critical" in bad.message
    assert "docker.io/library/app:1" in bad.message
    fixable_only = AdmissionConfig(only_fixable=True)
    assert decide(fixable_only, [status("app:1", counts={"critical": 3}, fixable={"critical": 0})]).allowed
    assert not decide(fixable_only, [status("app:1", counts={"critical": 3}, fixable={"critical": 1})]).allowed
    unscanned = [status("app:3", scanned=False, note="never scanned")]
    assert "not scanned (never scanned)" in decide(policy, unscanned).message
    warn = decide(AdmissionConfig(deny_unscanned=False), unscanned)
    assert warn.allowed and "not scanned" in warn.warnings[0]


def test_exemptions_are_globs():
    policy = AdmissionConfig(exempt_namespaces=["kube-system", "team-*"],
                             exempt_repositories=["registry.k8s.io/*", "docker.io/library/busybox"])
    assert namespace_exempt(policy, "kube-system") and namespace_exempt(policy, "team-a")
    assert not namespace_exempt(policy, "default")
    assert repository_exempt(policy, image_reference("registry.k8s.io/pause:3.9"))
    assert repository_exempt(policy, image_reference("busybox"))
    assert not repository_exempt(policy, image_reference("nginx"))


def test_response_shape():
    from imagewatch.admission.policy import Decision

    out = review_response("u-9", Decision(False, "no", ["w" * 400]))
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    r = out["response"]
    assert r["uid"] == "u-9" and r["allowed"] is False and r["status"]["message"] == "no"
    assert len(r["warnings"][0]) <= 256
    assert review_response("u", Decision(True))["response"] == {"uid": "u", "allowed": True}


def test_severity_threshold_is_validated():
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="severity_threshold"):
        msgspec.convert({"severity_threshold": "severe"}, AdmissionConfig)
