"""The secrets service end to end: registry push → fetcher → secrets → API."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query

from .helpers import get_json, wait_stage
from .images import CLEAN_SETTINGS, patch_history, spec
from .layouts import push_patched
from .planted import Planted

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")


def _by(items: list[dict], rule_prefix: str = "") -> dict[tuple[str, str], dict]:
    return {(i["rule"], i["path"]): i for i in items if i["rule"].startswith(rule_prefix)}


async def test_planted_secrets_and_misconfigurations_via_the_api(config, pg_dsn, tmp_path):
    p = Planted.make(11)
    other = ImageSpec(layers=[{"etc/os-release": b"ID=alpine\n"},
                              {"srv/deploy.sh": f"export GH={p.github}\n", "app/settings.py": CLEAN_SETTINGS}],
                      user="1000")
    stack = Stack(config)
    stack.reserve_api_port()
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start("api", "fetcher", "secrets")
            pushed = await asyncio.to_thread(push_patched, reg.host, "team/leaky", "1.0", spec(p),
                                             patch_history(p))
            second = await asyncio.to_thread(push_image, reg.host, "team/other", "2.0", other)
            await wait_stage(pg_dsn, pushed.digest, "secrets")
            await wait_stage(pg_dsn, second.digest, "secrets")
            async with aiohttp.ClientSession() as http:
                base = f"{stack.api_url}/v1/images"
                status, body, _ = await get_json(http, f"{base}/{pushed.digest}/secrets")
                _, only_secrets, _ = await get_json(http, f"{base}/{pushed.digest}/secrets", kind="secret")
                _, high, _ = await get_json(http, f"{base}/{pushed.digest}/secrets",
                                            kind="misconfiguration", severity="high,critical")
                _, other_body, _ = await get_json(http, f"{base}/{second.digest}/secrets", kind="secret")
                bad, _, _ = await get_json(http, f"{base}/{pushed.digest}/secrets", kind="nope")
                missing, _, _ = await get_json(http, f"{base}/sha256:{'0' * 64}/secrets")
                _, image, image_text = await get_json(http, f"{base}/{pushed.digest}")
            layers = await query(pg_dsn, "SELECT position, diff_id FROM image_layers WHERE image_digest = $1 "
                                         "ORDER BY position", pushed.digest)
            scanned = await query(pg_dsn, "SELECT count(*) AS n FROM layer_scans WHERE stage = 'secrets'")
            version = await query(pg_dsn, "SELECT version FROM stage_versions WHERE stage = 'secrets'")
    finally:
        await stack.stop()

    assert status == 200 and body["secrets"] == "done" and bad == 400 and missing == 404
    items = body["items"]
    secrets = [i for i in items if i["kind"] == "secret"]
    assert only_secrets["items"] == secrets
    diff = [r["diff_id"] for r in layers]
    assert len(diff) == 3
    env = [i for i in secrets if i["path"] == "etc/app.env"]
    assert {i["rule"].split("-")[0] for i in env} and len(env) == 2
    assert all(i["layer_index"] == 1 and i["layer"] == diff[1] and i["removed_in"] is None for i in env)
    assert any(i["preview"] == "AKIA****" for i in env)
    token = next(i for i in secrets if i["path"] == "app/token.txt")
    assert (token["layer_index"], token["removed_in"], token["layer"]) == (1, 2, diff[1])
    overwritten = next(i for i in secrets if i["path"] == "app/settings.py")
    assert overwritten["removed_in"] == 2 and overwritten["fingerprint"] == token["fingerprint"]
    key = next(i for i in secrets if i["path"] == "root/.ssh/id_rsa")
    assert key["severity"] in ("high", "critical") and key["removed_in"] is None
    history = [h.get("created_by", "") for h in image["config"]["history"]]
    curl = next(n for n, line in enumerate(history) if "curl -fsSL" in line)
    assert any(i["path"] == f"config:history[{curl - 1}]" for i in secrets)   # the build argument
    for i in items:
        assert i["preview"] is None or len(i["preview"].removesuffix("****")) <= 4
        assert set(i) >= {"rule", "title", "severity", "path", "line", "layer", "layer_index", "removed_in",
                          "fingerprint", "preview", "remediation"}
    misconfig = _by(items, "IW-")
    assert ("IW-CFG-001", "config:User") in misconfig                       # root
    assert ("IW-CFG-002", "config:ExposedPorts[22/tcp]") in misconfig        # ssh
    assert ("IW-CFG-003", "config:Env[DB_PASSWORD]") in misconfig            # secret env name
    assert ("IW-CFG-005", f"config:history[{curl}]") in misconfig                  # curl | sh
    assert ("IW-FS-001", "usr/local/bin/helper") in misconfig and ("IW-FS-001", "bin/su") not in misconfig
    assert misconfig[("IW-FS-001", "usr/local/bin/helper")]["layer_index"] == 1
    assert ("IW-FS-002", "etc/app.conf") in misconfig                       # world-writable in etc/
    assert ("IW-FS-003", "var/cache/apt/archives") in misconfig             # package cache
    assert ("IW-FS-004", "root/.ssh/id_rsa") in misconfig
    assert high["items"] and all(i["kind"] == "misconfiguration" and i["severity"] in ("high", "critical")
                                 for i in high["items"])
    # The same token in another image has the same fingerprint.
    [elsewhere] = [i for i in other_body["items"] if i["path"] == "srv/deploy.sh"]
    assert elsewhere["fingerprint"] == token["fingerprint"] and elsewhere["layer_index"] == 1
    # The stored config lost the values; the stage version and layer scans are recorded.
    assert p.db_password not in image_text and p.npm_token not in image_text
    assert "curl -fsSL" in image_text
    assert version[0]["version"].startswith("secrets/") and scanned[0]["n"] >= 5


async def test_refused_layer_fails_the_stage_and_the_service_goes_on(config, pg_dsn, tmp_path):
    config.inventory.max_layer_bytes = 200_000
    bomb = ImageSpec(layers=[{"zeros": b"\0" * 2_000_000}])
    fine = ImageSpec(layers=[{"etc/os-release": b"ID=alpine\n"}], user="1000")
    stack = Stack(config)
    stack.reserve_api_port()
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"}) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start("api", "fetcher", "secrets")
            refused = await asyncio.to_thread(push_image, reg.host, "team/bomb", "1", bomb)
            failed = await wait_stage(pg_dsn, refused.digest, "secrets", ("failed",))
            ok = await asyncio.to_thread(push_image, reg.host, "team/fine", "1", fine)
            await wait_stage(pg_dsn, ok.digest, "secrets")
            async with aiohttp.ClientSession() as http:
                _, body, _ = await get_json(http, f"{stack.api_url}/v1/images/{refused.digest}/secrets")
            dead = await stack.services["secrets"].ctx.bus.dead_letters()
    finally:
        await stack.stop()
    assert "layers: refused (layer_bytes)" in failed["reason"]
    assert body["secrets"] == "failed" and "layer_bytes" in body["reason"] and body["items"] == []
    assert [d.stage for _, d in dead] == ["secrets"]
