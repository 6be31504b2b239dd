"""Fixtures for the notifier service: a chat receiver, stored image events, the bus, the stack.

Everything is real (NATS, PostgreSQL, the notifier and api services) except
the chat services, which a local aiohttp receiver stands in for: it records
every POST and answers from a queue of scripted responses, and it can be
stopped so that connections are refused, then started again on the same port.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from nats.js.errors import NotFoundError

from harness.stack import Stack, query, wait_for
from imagewatch.runtime.bus import Bus
from imagewatch.cli.embedded import free_port
from imagewatch.messages import SUBJECT_FINDINGS, SUBJECT_SECRETS, FindingsReady, SecretsReady
from imagewatch.models import Finding, LayerRef, SecretFinding
from imagewatch.store import findings as findings_store
from imagewatch.store import images as images_store
from imagewatch.store import secrets as secrets_store
from imagewatch.store.db import connect_pool

SIGNING_KEY = "whsec-test-signing-key"
TOKEN = "XXXXSECRETTOKEN"
REGISTRY = "registry.test:5000"


@dataclass
class Received:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A stand-in chat service on a fixed local port."""

    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        """A hook URL whose path holds a secret token, like real chat webhooks."""
        return f"http://127.0.0.1:{self.port}/hooks/{name}/{TOKEN}"

    def to(self, name: str) -> list[Received]:
        return [r for r in self.requests if r.path == f"/hooks/{name}/{TOKEN}"]

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(Received(request.path, dict(request.headers), await request.read(), time.monotonic()))
        status, headers = self.responses.pop(0) if self.responses else (200, {})
        return web.Response(status=status, headers=headers, text="ok" if status < 300 else "nope")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def receiver():
    rec = Receiver()
    await rec.start()
    try:
        yield rec
    finally:
        await rec.stop()


@pytest.fixture
def notifier_config(config):
    """The test config with fast polling and retries; tests add channels and routes."""
    config.notifier.poll_interval = 0.1
    config.notifier.retry_base = 0.05
    config.notifier.max_attempts = 5
    config.notifier.api_base = "https://imagewatch.example.com/api"
    return config


def channel(receiver: Receiver, name: str, kind: str) -> dict:
    """A raw ``[[notifier.channels]]`` entry pointing at the receiver."""
    entry = {"name": name, "kind": kind, "url": receiver.url(name)}
    if kind == "webhook":
        entry["secret"] = SIGNING_KEY
    return entry


@pytest.fixture
async def stack(notifier_config):
    s = Stack(notifier_config)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def pool(pg_dsn):
    p = await connect_pool(pg_dsn, 1, 2, migrate=False)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
async def bus(config):
    b = await Bus.connect(config.bus, name="notifier-test")
    try:
        yield b
    finally:
        await b.close()


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def vuln(advisory: str, severity: str = "high", package: str = "openssl", fixed: str = "3.0.9",
         cve: str | None = None) -> Finding:
    """A finding as the matcher stores it."""
    ids = [advisory] + ([cve] if cve else [])
    return Finding(advisory_id=advisory, ids=ids, package=package, version="3.0.1", ecosystem="Debian",
                   fixed_versions=[fixed] if fixed else [], severity=severity, summary=f"{advisory} in {package}")


def leaked(rule: str = "aws-access-key-id", severity: str = "critical", path: str = "app/.env") -> SecretFinding:
    return SecretFinding(kind="secret", rule_id=rule, title="AWS access key ID", severity=severity, path=path,
                         line=3, layer_index=1, fingerprint=hashlib.sha256(path.encode()).hexdigest(),
                         preview="AKIA…")


def misconfig(rule: str = "config-user-root", severity: str = "medium") -> SecretFinding:
    return SecretFinding(kind="misconfiguration", rule_id=rule, title="Image runs as root", severity=severity,
                         path="config:User", remediation="Add a USER instruction.")


@dataclass
class Event:
    """An image with stored results, ready to be announced on the bus."""

    digest: str
    repository: str
    tag: str
    registry: str = REGISTRY

    def findings_ready(self, **kw) -> FindingsReady:
        return FindingsReady(image_digest=self.digest, registry=self.registry, repository=self.repository,
                             tag=self.tag, **kw)

    def secrets_ready(self) -> SecretsReady:
        return SecretsReady(image_digest=self.digest, registry=self.registry, repository=self.repository,
                            tag=self.tag)


async def store_image(pool, repository: str, tag: str, *, findings: list[Finding] = (),
                      secrets: list[SecretFinding] = (), name: str | None = None,
                      stages: tuple[str, ...] = ("matcher", "secrets")) -> Event:
    """Record an image with its findings, and mark ``stages`` done, as the upstream services would."""
    digest = digest_of(name or f"{repository}:{tag}:{time.monotonic_ns()}")
    layer = LayerRef(digest=digest_of(f"layer-{digest}"), diff_id=digest_of(f"diff-{digest}"), size=10,
                     media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    async with pool.acquire() as conn:
        await images_store.record_image(
            conn, digest=digest, registry=REGISTRY, repository=repository, tag=tag,
            media_type="application/vnd.oci.image.manifest.v1+json", platform="linux/amd64",
            config_digest=digest_of(f"config-{digest}"), config={}, index_digest="", layers=[layer])
        await images_store.init_stages(conn, digest)
        await findings_store.replace_findings(conn, digest, list(findings))
        await secrets_store.replace_secret_findings(conn, digest, list(secrets))
        for stage in stages:
            await images_store.set_stage(conn, digest, stage, "done")
    return Event(digest, repository, tag)


async def announce(bus: Bus, event: Event, *, suffix: str = "", **findings_kw) -> None:
    """Publish both stage messages of an image event (findings first)."""
    await bus.publish(SUBJECT_FINDINGS, event.findings_ready(**findings_kw), f"f:{event.digest}{suffix}")
    await bus.publish(SUBJECT_SECRETS, event.secrets_ready(), f"s:{event.digest}{suffix}")


async def consumed(bus: Bus) -> None:
    """Wait until the notifier has handled every message on both subjects."""
    async def done():
        for subject in (SUBJECT_FINDINGS, SUBJECT_SECRETS):
            try:
                info = await bus.js.consumer_info(bus.config.stream, bus.durable_name("notifier", subject))
            except NotFoundError:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
        return True
    await wait_for(done, timeout=10, interval=0.05, what="notifier consumers to drain")


async def outbox_rows(dsn: str, state: str | None = None):
    return await query(dsn, "SELECT * FROM notifier_outbox WHERE $1::text IS NULL OR state = $1 ORDER BY id",
                       state)


async def wait_rows(dsn: str, n: int, state: str = "sent", timeout: float = 10):
    """Wait until at least ``n`` outbox rows are in ``state``; return them."""
    async def enough():
        rows = await outbox_rows(dsn, state)
        return rows if len(rows) >= n else None
    return await wait_for(enough, timeout=timeout, interval=0.05, what=f"{n} {state} notifications")
