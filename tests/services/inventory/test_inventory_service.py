"""The inventory service end to end: real registry, NATS, PostgreSQL; packages, SBOMs, cache, refusals."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import msgspec
import pytest

from harness.images import ImageSpec, layer_tar, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.inventory import image as inventory
from imagewatch.ecosystems.python.analyser import PythonAnalyser
from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.messages import SUBJECT_INVENTORY, InventoryReady
from inventory.image_data import BASE, EXPECTED, LANG, OTHER_APP, REMOVE
from inventory.raw_images import push_raw, raw_tar
from report.schema_check import cyclonedx_validator, errors, spdx_validator

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
APP = ImageSpec(layers=[BASE, LANG, REMOVE])


async def _scan(http: aiohttp.ClientSession, api_url: str, reference: str) -> None:
    async with http.post(f"{api_url}/v1/scans", json={"reference": reference}, headers=AUTH) as resp:
        assert resp.status == 202, await resp.text()


async def _finished(dsn: str, digest: str, attempts: int = 1):
    rows = await query(dsn, "SELECT state, reason, attempts FROM scan_stages "
                            "WHERE image_digest = $1 AND stage = 'inventory'", digest)
    ok = rows and rows[0]["state"] in ("done", "failed") and rows[0]["attempts"] >= attempts
    return rows[0] if ok else None


async def _diff_ids(dsn: str, digest: str) -> list[str]:
    rows = await query(dsn, "SELECT diff_id FROM image_layers WHERE image_digest = $1 ORDER BY position", digest)
    return [r["diff_id"] for r in rows]


async def _get(http: aiohttp.ClientSession, url: str, **params):
    async with http.get(url, params=params) as resp:
        body = await resp.read()
        return resp.status, resp.headers.get("Content-Type", ""), json.loads(body)


@pytest.fixture
def analysed(monkeypatch):
    """(diff_id, analyser names) of every layer the inventory actually read."""
    calls: list[tuple[str, list[str]]] = []
    real = inventory.analyse_cached

    async def spy(source, *args, **kwargs):
        analysis, ran = await real(source, *args, **kwargs)
        if ran:
            calls.append((source.diff_id, ran))
        return analysis, ran

    monkeypatch.setattr(inventory, "analyse_cached", spy)
    return calls


async def test_packages_across_layers_api_and_sboms(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        app = await asyncio.to_thread(push_image, reg.host, "team/app", "1.0", APP)
        stack = await Stack(config).start("api", "fetcher", "inventory")
        try:
            ready = await stack.services["inventory"].ctx.bus.js.subscribe(SUBJECT_INVENTORY, ordered_consumer=True)
            async with aiohttp.ClientSession() as http:
                await _scan(http, stack.api_url, app.reference)
                row = await wait_for(lambda: _finished(pg_dsn, app.digest), what="inventory stage")
                assert row["state"] == "done", row["reason"]
                message = msgspec.json.decode((await ready.next_msg(timeout=10)).data, type=InventoryReady)
                assert (message.image_digest, message.repository, message.tag) == (app.digest, "team/app", "1.0")
                assert message.package_count == len(EXPECTED)

                diff_ids = await _diff_ids(pg_dsn, app.digest)
                url = f"{stack.api_url}/v1/images/{app.digest}"
                status, _, listing = await _get(http, f"{url}/packages")
                assert status == 200 and listing["next_cursor"] is None and listing["inventory"] == "done"
                got = {(p["ecosystem"], p["name"], p["version"], diff_ids.index(p["layer"]))
                       for p in listing["items"]}
                assert got == EXPECTED  # libgcc-s1 and typing-extensions removed; PyYAML owned by dpkg
                yaml = next(p for p in listing["items"] if p["name"] == "python3-yaml")
                assert yaml["source_name"] == "pyyaml" and yaml["path"] == "var/lib/dpkg/status"
                assert yaml["purl"].startswith("pkg:deb/debian/python3-yaml@6.0-3%2Bb2")
                six = next(p for p in listing["items"] if p["name"] == "six")
                assert six["path"].endswith("six-1.16.0.dist-info/METADATA") and six["purl"] == "pkg:pypi/six@1.16.0"

                _, _, npm = await _get(http, f"{url}/packages", ecosystem="npm")
                assert sorted(p["name"] for p in npm["items"]) == ["debug", "ms"]
                _, _, one = await _get(http, f"{url}/packages", name="zlib1g")
                assert [p["version"] for p in one["items"]] == ["1:1.2.13.dfsg-1"]
                pages, cursor = [], None
                while True:
                    _, _, page = await _get(http, f"{url}/packages", limit="3", **({"cursor": cursor} if cursor else {}))
                    pages.append([p["name"] for p in page["items"]])
                    if not (cursor := page["next_cursor"]):
                        break
                assert [len(p) for p in pages] == [3, 3, 1]
                assert sum(pages, []) == [p["name"] for p in listing["items"]]

                status, ctype, cdx = await _get(http, f"{url}/sbom", format="cyclonedx")
                assert status == 200 and ctype.startswith("application/vnd.cyclonedx+json")
                assert errors(cyclonedx_validator(), cdx) == []
                assert cdx["specVersion"] == "1.5"
                kinds = [c["type"] for c in cdx["components"]]
                assert kinds.count("library") == len(EXPECTED) and "operating-system" in kinds
                status, ctype, spdx = await _get(http, f"{url}/sbom", format="spdx")
                assert status == 200 and ctype.startswith("application/spdx+json")
                assert errors(spdx_validator(), spdx) == []
                assert spdx["spdxVersion"] == "SPDX-2.3"
                assert {"six", "ms", "zlib1g"} <= {p["name"] for p in spdx["packages"]}

                assert (await _get(http, f"{url}/sbom", format="sarif"))[0] == 400
                missing = f"{stack.api_url}/v1/images/sha256:{'0' * 64}"
                assert (await _get(http, f"{missing}/sbom"))[0] == 404
                assert (await _get(http, f"{missing}/packages"))[0] == 404
            await ready.unsubscribe()
        finally:
            await stack.stop()


async def test_shared_base_layer_is_read_once_and_a_bump_rereads_one_analyser(
        config, pg_dsn, tmp_path, analysed, monkeypatch):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        app = await asyncio.to_thread(push_image, reg.host, "team/app", "1.0", APP)
        other = await asyncio.to_thread(push_image, reg.host, "team/other", "1.0",
                                        ImageSpec(layers=[BASE, OTHER_APP]))
        stack = await Stack(config).start("api", "fetcher", "inventory")
        try:
            async with aiohttp.ClientSession() as http:
                await _scan(http, stack.api_url, app.reference)
                assert (await wait_for(lambda: _finished(pg_dsn, app.digest)))["state"] == "done"
                base = (await _diff_ids(pg_dsn, app.digest))[0]
                before = await query(pg_dsn, "SELECT analyser, version, analysed_at FROM layer_results "
                                             "WHERE diff_id = $1 ORDER BY analyser", base)
                assert len(before) == len(default_analysers()) + 1  # + the "_layer" entry
                await _scan(http, stack.api_url, other.reference)
                assert (await wait_for(lambda: _finished(pg_dsn, other.digest)))["state"] == "done"
                other_ids = await _diff_ids(pg_dsn, other.digest)
                assert other_ids[0] == base
                assert [d for d, _ in analysed].count(base) == 1
                assert len(analysed) == 4  # three layers of app, one new layer of other
                after = await query(pg_dsn, "SELECT analyser, version, analysed_at FROM layer_results "
                                            "WHERE diff_id = $1 ORDER BY analyser", base)
                assert after == before
                names = await query(pg_dsn, "SELECT name FROM image_packages WHERE image_digest = $1 "
                                            "ORDER BY position", other.digest)
                assert [r["name"] for r in names] == [
                    "base-files", "libgcc-s1", "libssl3", "python3-yaml", "zlib1g", "six"]

                await stack.stop("inventory")
                monkeypatch.setattr(PythonAnalyser, "version", 2)
                await stack.start("inventory")
                analysed.clear()
                await _scan(http, stack.api_url, other.reference)
                row = await wait_for(lambda: _finished(pg_dsn, other.digest, attempts=2), what="second run")
                assert row["state"] == "done"
                assert sorted(analysed) == sorted((d, ["python-dist"]) for d in other_ids)
                rows = await query(pg_dsn, "SELECT count(*) AS n FROM layer_results WHERE analyser = 'python-dist' "
                                           "AND version = 2")
                assert rows[0]["n"] == 2
                again = await query(pg_dsn, "SELECT name FROM image_packages WHERE image_digest = $1 "
                                            "ORDER BY position", other.digest)
                assert again == names  # redelivery and re-analysis change nothing visible
                version = await query(pg_dsn, "SELECT version FROM stage_versions WHERE stage = 'inventory'")
                assert "python-dist:2" in version[0]["version"]
        finally:
            await stack.stop()


async def test_refused_layers_fail_the_scan_and_the_service_keeps_going(config, pg_dsn, tmp_path):
    config.inventory.max_layer_bytes = 1 << 20
    config.inventory.max_entries = 500
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        bomb = await asyncio.to_thread(push_raw, reg.host, "evil/bomb", "1",
                                       [layer_tar(BASE), raw_tar(("zeros", bytes(4 << 20)))])
        escape = await asyncio.to_thread(push_raw, reg.host, "evil/escape", "1",
                                         [raw_tar(("../../etc/cron.d/evil", b"* * * * * root sh\n"))])
        good = await asyncio.to_thread(push_image, reg.host, "team/good", "1", ImageSpec(layers=[BASE, LANG]))
        stack = await Stack(config).start("api", "fetcher", "inventory")
        try:
            async with aiohttp.ClientSession() as http:
                for pushed in (bomb, escape):
                    await _scan(http, stack.api_url, pushed.reference)
                for pushed, reason in ((bomb, "layer_bytes"), (escape, "path_escape")):
                    row = await wait_for(lambda: _finished(pg_dsn, pushed.digest), what=f"{reason} refused")
                    assert row["state"] == "failed"
                    assert row["reason"].startswith(f"layers: refused ({reason})")
                    status, _, detail = await _get(http, f"{stack.api_url}/v1/images/{pushed.digest}")
                    assert status == 200 and detail["stages"]["inventory"]["state"] == "failed"
                    assert detail["stages"]["inventory"]["reason"] == row["reason"]
                    bad = (await _diff_ids(pg_dsn, pushed.digest))[-1]
                    assert bad in row["reason"]
                    errors_ = await query(pg_dsn, "SELECT reason FROM layer_errors WHERE diff_id = $1", bad)
                    assert [e["reason"] for e in errors_] == [row["reason"]]
                letters = await stack.services["inventory"].ctx.bus.dead_letters()
                assert sorted(l.error.split(":")[1] for _, l in letters if l.stage == "inventory") == [
                    " refused (layer_bytes)", " refused (path_escape)"]

                await _scan(http, stack.api_url, good.reference)
                row = await wait_for(lambda: _finished(pg_dsn, good.digest), what="good image after refusals")
                assert row["state"] == "done"
                _, _, listing = await _get(http, f"{stack.api_url}/v1/images/{good.digest}/packages")
                assert {p["name"] for p in listing["items"]} >= {"base-files", "six", "typing-extensions", "ms"}
        finally:
            await stack.stop()
