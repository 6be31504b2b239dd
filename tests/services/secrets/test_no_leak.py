"""No leak: planted secrets never reach the database, logs, messages, API responses or chat messages.

The whole pipeline that exists runs on real servers (NATS, PostgreSQL, a
registry): api, fetcher, secrets, and inventory, matcher and notifier when
their modules are there; a local receiver stands in for the chat service.
Afterwards every captured byte is searched for each raw value and its base64.
"""

from __future__ import annotations

import asyncio
import io

import aiohttp
import nats
import pytest
import structlog

from harness.images import tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.runtime.logs import configure

from .helpers import Receiver, dump_database, get_json, have_service, wait_stage
from .images import patch_history, spec
from .layouts import push_patched
from .planted import Planted

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
OPTIONAL = [s for s in ("inventory", "matcher", "notifier") if have_service(s)]
ALERTS = "notifier" in OPTIONAL and "matcher" in OPTIONAL and "inventory" in OPTIONAL


def _leaks(needles: list[str], where: dict[str, str]) -> list[str]:
    """Which places hold which needle (named by index, so a failure prints no value)."""
    return [f"needle #{n} in {place}" for place, text in where.items()
            for n, needle in enumerate(needles) if needle in text]


async def test_no_raw_secret_leaves_the_scanning_process(config, pg_dsn, tmp_path, capfd):
    p = Planted.make(31)
    logs = io.StringIO()
    configure("json", "debug", stream=logs)
    receiver = Receiver()
    await receiver.start()
    if "notifier" in OPTIONAL:
        config.notifier.channels = [{"name": "siem", "kind": "webhook", "url": receiver.url,
                                     "secret": "whsec-test-signing"}]
        config.notifier.routes = [{"channels": ["siem"]}]
        config.notifier.poll_interval = 0.1
    messages: list[str] = []

    async def record(msg) -> None:
        messages.append(f"{msg.subject} {dict(msg.headers or {})} {msg.data.decode('utf-8', 'replace')}")

    nc = await nats.connect(config.bus.url)
    await nc.subscribe("iw.>", cb=record)
    stack = Stack(config)
    stack.reserve_api_port()
    api: dict[str, str] = {}
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start("api", "fetcher", "secrets", *OPTIONAL)
            pushed = await asyncio.to_thread(push_patched, reg.host, "team/leaky", "1.0", spec(p),
                                             patch_history(p))
            digest = pushed.digest
            await wait_stage(pg_dsn, digest, "secrets")
            if ALERTS:
                await wait_stage(pg_dsn, digest, "notifier")
                await wait_for(lambda: _nonempty(receiver.bodies), timeout=30, what="the chat message")
            async with aiohttp.ClientSession() as http:
                base = stack.api_url
                for path in ("/v1/images", f"/v1/images/{digest}", f"/v1/images/{digest}/secrets",
                             f"/v1/images/{digest}/packages", f"/v1/images/{digest}/vulnerabilities",
                             "/v1/notifications"):
                    status, _, text = await get_json(http, base + path)
                    api[path] = f"{status} {text}"
                async with http.get(f"{base}/v1/dlq", headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as resp:
                    api["/v1/dlq"] = await resp.text()
            await nc.flush()
            tables = await dump_database(pg_dsn)
            prints = {r["fingerprint"] for r in await query(
                pg_dsn, "SELECT fingerprint FROM secret_findings WHERE kind = 'secret'")}
    finally:
        await stack.stop()
        await nc.close()
        await receiver.stop()
        structlog.reset_defaults()
    out, err = capfd.readouterr()

    # What was captured is real: the findings exist and went everywhere they should.
    assert tables["secret_findings"] and any("secrets stored" in line for line in logs.getvalue().splitlines())
    assert any(m.startswith("iw.secrets ") for m in messages) and '"kind": "secret"' in api[
        f"/v1/images/{digest}/secrets"].replace('":"', '": "')
    if ALERTS:
        chat = b"".join(receiver.bodies).decode()
        assert prints and any(fp in chat for fp in prints)
    where = {"logs": logs.getvalue(), "stdout": out, "stderr": err, "nats": "\n".join(messages),
             "chat": "\n".join(b.decode("utf-8", "replace") for b in receiver.bodies),
             **{f"api {k}": v for k, v in api.items()},
             **{f"table {k}": "\n".join(rows) for k, rows in tables.items()}}
    leaks = _leaks(p.needles(), where)
    assert not leaks, leaks


async def _nonempty(items: list) -> bool:
    return bool(items)
