"""End to end: a registry push reaches the generic webhook receiver as one signed alert."""

from __future__ import annotations

import asyncio
import importlib.util
import json

import msgspec
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, wait_for
from imagewatch.advisories.model import Advisory
from imagewatch.notify.signing import verify
from imagewatch.store.advisories import upsert_advisories

from .conftest import SIGNING_KEY, channel, outbox_rows, wait_rows

SERVICES = ("api", "fetcher", "inventory", "matcher", "secrets", "notifier")


def _missing(name: str) -> bool:
    package = f"imagewatch_services.{name}"
    return importlib.util.find_spec(package) is None or importlib.util.find_spec(f"{package}.main") is None


MISSING = [s for s in SERVICES if _missing(s)]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}"),
    pytest.mark.skipif(bool(MISSING), reason=f"services not there yet: {MISSING}"),
]

ADVISORY = {
    "id": "GHSA-x84v-xcm2-53pg",
    "aliases": ["CVE-2018-18074"],
    "summary": "Insecure HTTP redirect handling in requests",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}]}],
}
IMAGE = ImageSpec(layers=[
    {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
    {"usr/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA":
        b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n",
     "app/.env": b"AWS_ACCESS_KEY_ID=AKIAZ7Q3K5N2XW4PLM8R\n"},
])


async def test_registry_push_reaches_the_webhook_once(notifier_config, pool, receiver, pg_dsn, tmp_path):
    notifier_config.notifier.channels = [channel(receiver, "siem", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["siem"]}]
    async with pool.acquire() as conn:
        await upsert_advisories(conn, "test", [msgspec.convert(ADVISORY, Advisory)])
    stack = Stack(notifier_config)
    stack.reserve_api_port()
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as reg:
            notifier_config.fetcher.insecure_registries.append(reg.host)
            await stack.start(*SERVICES)
            pushed = await asyncio.to_thread(push_image, reg.host, "team-a/web", "1.0", IMAGE)

            async def delivered():
                return receiver.to("siem")
            [got] = await wait_for(delivered, timeout=60, what="the alert at the webhook receiver")
            await wait_rows(pg_dsn, 1)
    finally:
        await stack.stop()

    verify(SIGNING_KEY, got.headers["X-Imagewatch-Signature"], got.body)
    alert = json.loads(got.body)["alert"]
    assert alert["image"]["repository"] == "team-a/web" and alert["image"]["tag"] == "1.0"
    assert alert["image"]["digest"] == pushed.digest and alert["reason"] == "push"
    [finding] = alert["findings"]
    assert (finding["id"], finding["cve"], finding["package"]) == ("GHSA-x84v-xcm2-53pg", "CVE-2018-18074",
                                                                   "requests")
    assert finding["installed"] == "2.19.0" and finding["fixed"] == "2.20.0"
    assert all("Z7Q3K5N2XW4PLM8R" not in json.dumps(s) for s in alert["secrets"])
    assert len(receiver.to("siem")) == 1 and len(await outbox_rows(pg_dsn)) == 1
