"""The inventory end to end on real package content: real registry, fetcher, inventory, api.

The expected packages come from the sources themselves (``dpkg-deb -f``
control fields, the pinned wheel and npm versions, ``go version -m``), never
from the analysers under test.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from harness.images import tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from inventory.real_images import (DEB_JAR, GO_BINARY, GO_HARDLINK, HOST_ONLY, M2_JAR, SITE, RealImage,
                                        change_layer, real_image)
from inventory.raw_images import push_raw

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}


@pytest.fixture(scope="module")
def image() -> RealImage:
    return real_image()


def _source(control: dict[str, str]) -> tuple[str, str]:
    name, _, rest = control.get("Source", control["Package"]).partition(" (")
    return name, rest.rstrip(")") or control["Version"]


def expected(image: RealImage) -> set[tuple[str, str, str, int]]:
    """(ecosystem, name, version, introducing layer) of everything the four real layers hold."""
    out = {("Debian", c["Package"], c["Version"], 0) for c in image.debian}
    out |= {("PyPI", canonicalize_name(w["name"]), w["version"], 1) for w in image.wheels}
    out |= {("npm", n["name"], n["version"], 2) for n in image.npm}
    out |= {("Go", module, version, 3) for module, version in image.go.items()}
    out.add(("Maven", "log4j:log4j", "1.2.17", 3))
    return out


async def _scan_and_list(http, stack, pg_dsn, pushed) -> tuple[list[str], list[dict]]:
    async with http.post(f"{stack.api_url}/v1/scans", json={"reference": pushed.reference}, headers=AUTH) as resp:
        assert resp.status == 202, await resp.text()

    async def finished():
        rows = await query(pg_dsn, "SELECT state, reason FROM scan_stages WHERE image_digest = $1 "
                                   "AND stage = 'inventory'", pushed.digest)
        return rows[0] if rows and rows[0]["state"] in ("done", "failed") else None

    row = await wait_for(finished, timeout=60, what=f"inventory of {pushed.reference}")
    assert row["state"] == "done", row["reason"]
    rows = await query(pg_dsn, "SELECT diff_id FROM image_layers WHERE image_digest = $1 ORDER BY position",
                       pushed.digest)
    async with http.get(f"{stack.api_url}/v1/images/{pushed.digest}/packages", params={"limit": "500"}) as resp:
        assert resp.status == 200
        listing = await resp.json()
    assert listing["next_cursor"] is None
    return [r["diff_id"] for r in rows], listing["items"]


async def _layer_result(pg_dsn: str, diff_id: str, analyser: str) -> dict:
    rows = await query(pg_dsn, "SELECT result FROM layer_results WHERE diff_id = $1 AND analyser = $2",
                       diff_id, analyser)
    result = rows[0]["result"]
    return json.loads(result) if isinstance(result, str) else result


def _keys(items: list[dict], diff_ids: list[str]) -> set[tuple[str, str, str, int]]:
    return {(p["ecosystem"], p["name"], p["version"], diff_ids.index(p["layer"])) for p in items}


async def test_real_image_inventory_and_later_whiteouts(config, pg_dsn, tmp_path, image):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        first = await asyncio.to_thread(push_raw, reg.host, "real/app", "1", image.layers)
        second = await asyncio.to_thread(push_raw, reg.host, "real/app", "2",
                                         [*image.layers, change_layer(image)])
        stack = await Stack(config).start("api", "fetcher", "inventory")
        try:
            async with aiohttp.ClientSession() as http:
                diff_ids, items = await _scan_and_list(http, stack, pg_dsn, first)
                assert _keys(items, diff_ids) == expected(image)
                by_name = {}
                for p in items:
                    by_name.setdefault(p["name"], []).append(p)

                for control in image.debian:  # OS packages: source package, arch and distro in the purl
                    [pkg] = by_name[control["Package"]]
                    assert (pkg["source_name"], pkg["source_version"]) == _source(control)
                    assert pkg["path"] == "var/lib/dpkg/status" and pkg["arch"] == control["Architecture"]
                    purl = PackageURL.from_string(pkg["purl"])
                    assert (purl.type, purl.namespace, purl.name, purl.version) == (
                        "deb", "debian", control["Package"], control["Version"])
                    assert purl.qualifiers == {"arch": control["Architecture"], "distro": "debian-12"}
                [django] = by_name["django"]
                assert django["purl"] == "pkg:pypi/django@2.2"
                assert django["path"] == f"{SITE}/Django-2.2.dist-info/METADATA"
                assert by_name["lodash"][0]["path"] == "app/node_modules/lodash/package.json"
                nats = by_name["github.com/nats-io/nats-server/v2"]
                assert {p["path"] for p in nats} == {GO_BINARY, GO_HARDLINK}  # a hard link is a second file
                assert {p["purl"] for p in by_name["stdlib"]} == {f"pkg:golang/stdlib@{image.go['stdlib']}"}
                [log4j] = by_name["log4j:log4j"]
                assert (log4j["path"], log4j["purl"]) == (M2_JAR, "pkg:maven/log4j/log4j@1.2.17")

                # dpkg-owned language files were analysed in the base layer, then dropped as owned
                base_java = await _layer_result(pg_dsn, diff_ids[0], "java-archive")
                assert [p["path"] for p in base_java["packages"]] == [DEB_JAR]  # symlinks to it are not files
                base_python = await _layer_result(pg_dsn, diff_ids[0], "python-dist")
                assert [(p["name"], p["path"]) for p in base_python["packages"]] == [
                    ("pyyaml", "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA")]
                assert not [p for p in items if p["path"].startswith(("usr/share/", "usr/lib/python3/"))]

                diff_ids2, items2 = await _scan_and_list(http, stack, pg_dsn, second)
                assert diff_ids2[:4] == diff_ids
                gone = {k for k in expected(image) if k[1] in ("urllib3", "minimist")}
                assert _keys(items2, diff_ids2) == expected(image) - gone  # lodash keeps layer 2
                assert {p["path"] for p in items2 if p["ecosystem"] == "Go"} == {GO_HARDLINK}
                assert not [p for p in items2 if p["ecosystem"] == "npm" and p["name"] == "npm"], HOST_ONLY
        finally:
            await stack.stop()
