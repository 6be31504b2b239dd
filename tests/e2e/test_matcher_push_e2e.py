"""End to end: push an Alpine 3.19 image with vulnerable apk and wheel versions to a real registry.

registry → api → fetcher → inventory → matcher → iw.findings and the API, then an
advisory import re-matches the image with the registry stopped.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json

import aiohttp
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, wait_for
from imagewatch.runtime.bus import Bus
from imagewatch.messages import SUBJECT_FINDINGS, FindingsReady
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from matcher.helpers import SECDB_319, URLLIB3, Tap

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}"),
    pytest.mark.skipif(importlib.util.find_spec("imagewatch_services.inventory.main") is None,
                       reason="the inventory service (services/inventory) is not there yet"),
]

APK_DB = """C:Q1fakefakefakefakefakefakefakefake=
P:libssl3
V:3.1.4-r0
A:x86_64
o:openssl
L:Apache-2.0

C:Q1fakefakefakefakefakefakefakefak2=
P:busybox
V:1.36.1-r20
A:x86_64
o:busybox
L:GPL-2.0-only

"""
SITE = "usr/lib/python3.11/site-packages"


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _image(urllib3: str) -> ImageSpec:
    base = {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": APK_DB.encode()}
    app = {f"{SITE}/urllib3-{urllib3}.dist-info/METADATA": _metadata("urllib3", urllib3)}
    return ImageSpec(layers=[base, app])


async def test_push_to_findings_then_fix_then_advisory_rematch(config, pg_dsn, nats_url, tmp_path):
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    await import_paths(pool, [URLLIB3, SECDB_319])  # `imagewatch db import`, before the stack runs
    stack = Stack(config)
    stack.reserve_api_port()
    tap = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    bus = None
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"},
                          notify_ignore_media_types=["application/octet-stream"]) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start("api", "fetcher", "inventory", "matcher")
            await tap.start()
            first = await asyncio.to_thread(push_image, reg.host, "team/py", "v1", _image("1.24.1"))
            [ready] = await tap.wait(lambda m: m.image_digest == first.digest, timeout=40, what="findings")
            assert ready.reason == "push" and ready.repository == "team/py" and ready.tag == "v1"
            assert {"PYSEC-2019-133", "PYSEC-2020-148", "CVE-2023-5678"} <= set(ready.new)

            async with aiohttp.ClientSession(base_url=stack.api_url) as http:
                async with http.get(f"/v1/images/{first.digest}/vulnerabilities") as resp:
                    items = {i["id"]: i for i in (await resp.json())["items"]}
            assert items["PYSEC-2019-133"]["cve"] == "CVE-2019-11324"
            assert items["PYSEC-2019-133"]["fixed_versions"] == ["1.24.2"]
            assert items["PYSEC-2019-133"]["path"].endswith("urllib3-1.24.1.dist-info/METADATA")
            assert items["CVE-2023-5678"]["package"] == "libssl3"
            assert items["CVE-2023-5678"]["fixed_versions"] == ["3.1.4-r1"]

            # The same tag, urllib3 fixed for one advisory: that id is reported fixed, nothing new.
            second = await asyncio.to_thread(push_image, reg.host, "team/py", "v1", _image("1.24.3"))
            [delta] = await tap.wait(lambda m: m.image_digest == second.digest, timeout=40, what="second push")
            assert delta.fixed == ["PYSEC-2019-133"] and delta.new == []

        # The registry is gone: a new advisory re-matches the stored image anyway.
        await stack.stop("fetcher")
        doc = {"id": "GHSA-e2e-0001", "modified": "2030-01-01T00:00:00Z", "aliases": ["CVE-2099-1111"],
               "summary": "urllib3 test advisory", "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.25.0"}]}]}]}
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "GHSA-e2e-0001.json").write_text(json.dumps(doc))
        bus = await Bus.connect(config.bus, name="test-import")
        await import_paths(pool, [tmp_path / "new"], bus)
        await wait_for(lambda: _advisory(tap, 2), what="advisory findings for both images")
        advisory = [m for m in tap.messages if m.reason == "advisory"]
        assert {m.image_digest for m in advisory} == {first.digest, second.digest}
        assert all(m.advisories == ["GHSA-e2e-0001"] for m in advisory)
        # The current image of the tag is named by its tag, the replaced one by its repository only.
        assert {(m.image_digest, m.tag) for m in advisory} == {(second.digest, "v1"), (first.digest, "")}
    finally:
        if bus is not None:
            await bus.close()
        await tap.close()
        await stack.stop()
        await pool.close()


async def _advisory(tap: Tap, n: int) -> bool:
    return len([m for m in tap.messages if m.reason == "advisory"]) >= n
