"""deploy/k8s: the ValidatingWebhookConfiguration and the api's Deployment/Service hang together."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import yaml

from imagewatch.admission.policy import POD_SPEC_PATHS
from imagewatch.config import Config

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def by_kind(items: list[dict], kind: str) -> dict:
    [found] = [d for d in items if d["kind"] == kind]
    return found


def test_validating_webhook_configuration():
    [config] = docs("validating-webhook.yaml")
    assert config["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert config["kind"] == "ValidatingWebhookConfiguration"
    [hook] = config["webhooks"]
    assert hook["admissionReviewVersions"] == ["v1"] and hook["sideEffects"] == "None"
    # issue 11: fail closed (the old assertion locked in the fail-open default)
    assert hook["failurePolicy"] == "Fail" and hook["timeoutSeconds"] <= 30
    service = hook["clientConfig"]["service"]
    assert (service["name"], service["namespace"], service["path"]) == ("imagewatch-api", "imagewatch",
                                                                       "/v1/admission")
    assert "caBundle" in hook["clientConfig"]
    [excluded] = hook["namespaceSelector"]["matchExpressions"]
    assert excluded["operator"] == "NotIn" and "kube-system" in excluded["values"]
    resources = set()
    for rule in hook["rules"]:
        assert set(rule["operations"]) == {"CREATE", "UPDATE"} and rule["apiVersions"] == ["v1"]
        resources |= set(rule["resources"])
    assert {"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"} <= resources
    # every kind a rule sends is one parse_review knows the pod template of
    kinds = {"pods": "Pod", "pods/ephemeralcontainers": "Pod", "replicationcontrollers": "ReplicationController",
             "podtemplates": "PodTemplate", "deployments": "Deployment", "statefulsets": "StatefulSet",
             "daemonsets": "DaemonSet", "replicasets": "ReplicaSet", "jobs": "Job", "cronjobs": "CronJob"}
    assert {kinds[r] for r in resources} <= set(POD_SPEC_PATHS)


def test_api_deployment_and_service_match_the_webhook():
    items = docs("api.yaml")
    [hook] = docs("validating-webhook.yaml")[0]["webhooks"]
    service, deployment = by_kind(items, "Service"), by_kind(items, "Deployment")
    target = hook["clientConfig"]["service"]
    assert service["metadata"]["name"] == target["name"] and service["metadata"]["namespace"] == target["namespace"]
    [port] = service["spec"]["ports"]
    assert port["port"] == target["port"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels[k] == v for k, v in service["spec"]["selector"].items())
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert containers["api"]["args"] == ["service", "api"]
    assert any(p["name"] == port["targetPort"] for c in containers.values() for p in c.get("ports", []))
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "imagewatch-api-tls"
    # the shipped configuration loads with the real Config (unknown keys would be rejected)
    toml = by_kind(items, "ConfigMap")["data"]["imagewatch.toml"]
    config = msgspec.convert(tomllib.loads(toml), Config)
    assert config.admission.deny_unscanned and "kube-system" in config.admission.exempt_namespaces
    # behind the TLS proxy the api listens on loopback: reads must still need the read token
    assert config.api.require_read_token
    cert = by_kind(docs("certificate.yaml"), "Certificate")
    assert cert["spec"]["secretName"] == "imagewatch-api-tls"
    assert f"{target['name']}.{target['namespace']}.svc" in cert["spec"]["dnsNames"]


def test_admission_fails_closed_with_two_replicas_a_pdb_and_a_break_glass_namespace():
    items = docs("api.yaml")
    deployment = by_kind(items, "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    pdb = by_kind(items, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["minAvailable"] >= 1
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels[k] == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())
    [hook] = docs("validating-webhook.yaml")[0]["webhooks"]
    [excluded] = hook["namespaceSelector"]["matchExpressions"]
    assert "imagewatch-break-glass" in excluded["values"]
    # nginx in front of the api passes reviews up to the 3 MiB the API server sends
    nginx = by_kind(items, "ConfigMap")["data"]["nginx.conf"]
    assert "client_max_body_size 4m" in nginx


def test_no_placeholder_secrets_shipped():
    root = K8S.parents[1]
    for path in [*K8S.glob("*.yaml"), root / "compose.yaml", *(root / "deploy").rglob("*.conf")]:
        text = path.read_text()
        assert "CHANGE_ME" not in text and "changeme" not in text.lower(), path
    assert not [d for d in docs("api.yaml") if d["kind"] == "Secret"]
