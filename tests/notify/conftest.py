"""Fixtures for notifier tests: real sample findings, a large alert, a local HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from imagewatch.models import Finding, SecretFinding
from imagewatch.notify.alert import Alert, ImageRef, build_alert

DATA = Path(__file__).parent / "data"
API = "https://imagewatch.example.com/api"
RAW_SECRET = "AKIAIOSFODNN7EXAMPLE"


def schema(name: str) -> dict:
    return json.loads((DATA / f"{name}.schema.json").read_text())


def sample_alert(**overrides) -> Alert:
    raw = json.loads((DATA / "findings.json").read_text())
    return build_alert(
        image=msgspec.convert(raw["image"], ImageRef),
        api_base=API,
        findings=msgspec.convert(raw["findings"], list[Finding]),
        secrets=msgspec.convert(raw["secrets"], list[SecretFinding]),
        new_ids=raw["new"],
        **overrides,
    )


SEVERITIES = ["critical"] * 20 + ["high"] * 80 + ["medium"] * 200 + ["low"] * 150 + ["unknown"] * 50


def large_alert() -> Alert:
    """500 findings, 50 secrets (whose previews hold a whole raw key), 10 misconfigurations."""
    findings = [
        Finding(
            advisory_id=f"GHSA-{i:04x}-abcd-efgh",
            ids=[f"GHSA-{i:04x}-abcd-efgh", f"CVE-2024-{10000 + i}"],
            package=f"org.springframework.boot:spring-boot-starter-component-{i}",
            version=f"2.7.{i % 20}",
            ecosystem="Maven",
            fixed_versions=[f"3.2.{i % 7}"] if i % 3 else [],
            severity=sev,
            score=9.8 - (i % 50) / 10,
            summary="A long summary " * 20,
        )
        for i, sev in enumerate(SEVERITIES)
    ]
    secrets = [
        SecretFinding(
            kind="secret", rule_id="aws-access-key-id", title="AWS access key ID",
            severity="critical" if i % 2 else "high",
            path=f"srv/app/config/environments/production-{i}/settings.env", line=i + 1,
            layer_index=i % 7, removed_in=(i % 7) + 1 if i % 3 == 0 else None,
            fingerprint=f"{i:032x}", preview=RAW_SECRET,
        )
        for i in range(50)
    ]
    secrets += [
        SecretFinding(kind="misconfiguration", rule_id=f"config-rule-{i}", title="Image runs as root",
                      severity="medium", path="config:User", remediation="Add a USER instruction. " * 30)
        for i in range(10)
    ]
    return build_alert(
        image=ImageRef(registry="registry.example.com", repository="team-a/payments/backend-service",
                       tag="2024.06.30-build.1234", digest="sha256:" + "ab" * 32, platform="linux/arm64/v8"),
        api_base=API, findings=findings, secrets=secrets,
        new_ids=[f"CVE-2024-{10000 + i}" for i in range(0, 500, 4)],
    )


class Receiver:
    """A local HTTP endpoint recording every POST and answering from a queue of responses."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.responses: list[tuple[int, dict[str, str], str]] = []
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.path_qs, dict(request.headers), body))
        status, headers, text = self.responses.pop(0) if self.responses else (200, {}, "ok")
        return web.Response(status=status, headers=headers, text=text)

    def url(self, path: str = "/hooks/T000/B000/XXXXSECRETTOKEN") -> str:
        return self.base + path


@pytest.fixture
async def receiver():
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.base = str(server.make_url("")).rstrip("/")
    try:
        yield rec
    finally:
        await server.close()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s
