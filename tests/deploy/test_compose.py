"""compose.yaml: every service its own scalable compose service, wired to NATS, PostgreSQL, registry."""

from __future__ import annotations

from pathlib import Path

import yaml

from imagewatch.cli.up import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def test_compose_structure():
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = doc["services"]
    for infra in ("nats", "postgres", "registry"):
        assert infra in services
    assert "-js" in services["nats"]["command"]
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == ["service", name]
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        env = svc["environment"]
        assert env["IMAGEWATCH_NATS_URL"].startswith("nats://nats:")
        assert env["IMAGEWATCH_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["IMAGEWATCH_DATABASE_URL"]
        # scalable: no fixed container name, and only the api publishes a host port
        assert "container_name" not in svc
        assert ("ports" in svc) == (name == "api")
    assert (ROOT / "deploy" / "Dockerfile").exists()


def test_registry_notifies_the_api():
    cfg = yaml.safe_load((ROOT / "deploy" / "registry" / "config.yml").read_text())
    [endpoint] = cfg["notifications"]["endpoints"]
    assert endpoint["url"] == "http://api:8080/v1/events/distribution"
    assert endpoint["headers"]["Authorization"][0].startswith("Bearer ")
    assert "pull" in endpoint["ignore"]["actions"]
