"""Hostile network: servers and defaults (issue 11) — who can reach which port with what.

Real embedded NATS and PostgreSQL, a real api, a real registry for the tag rebinding case.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import aiohttp
import asyncpg
import nats
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres
from imagewatch.config import ApiConfig, Config, load_config, webhook_token
from imagewatch.runtime.tokens import TokenError, check_token

WEBHOOK = {"Authorization": "Bearer test-token-0123456789abcdef"}


@pytest.mark.parametrize("token", [
    "", "   ", "short", "fifteen-chars15", "CHANGE_ME", "changeme", "CHANGE_ME_CHANGE_ME_CHANGE_ME",
    "changeme-changeme-changeme", "aaaaaaaaaaaaaaaaaaaaaaaa", "password-password-1", "your-token-here-please",
    " padded-0123456789abcdef ",
])
def test_weak_tokens_are_refused(token):
    with pytest.raises(TokenError):
        check_token("api.webhook_token", token)


def test_a_generated_token_is_accepted():
    import secrets

    assert check_token("x", secrets.token_urlsafe(32))


@pytest.mark.parametrize("token", ["short", "CHANGE_ME", "changeme-changeme"])
async def test_api_refuses_to_start_with_a_weak_token(config, token):
    config.api.webhook_token = token
    with pytest.raises(TokenError):
        await Stack(config).start("api")


def test_empty_token_file_is_refused_not_auth_off(tmp_path):
    config = load_config(env={"IMAGEWATCH_DATA_DIR": str(tmp_path)})
    (tmp_path / "webhook-token").write_text("")  # a crash between create and write
    with pytest.raises(TokenError, match="empty"):
        webhook_token(config)


def test_token_file_is_created_0600_and_exclusively(tmp_path):
    config = load_config(env={"IMAGEWATCH_DATA_DIR": str(tmp_path)})
    token = webhook_token(config)
    path = tmp_path / "webhook-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == token
    assert webhook_token(config) == token  # kept, not regenerated


def test_api_binds_loopback_by_default():
    assert ApiConfig().host == "127.0.0.1"
    assert load_config(env={}).api.host == "127.0.0.1"
    assert Config().metrics_host == "127.0.0.1"


async def test_reads_beyond_loopback_need_the_read_token(config):
    from imagewatch.cli.embedded import free_port

    config.api.host, config.api.port = "0.0.0.0", free_port()
    config.api.read_token = "read-token-0123456789abcdef"
    stack = await Stack(config).start("api")
    try:
        async with aiohttp.ClientSession() as http:
            async def status(path: str, headers=None) -> int:
                async with http.get(stack.api_url + path, headers=headers or {}) as resp:
                    return resp.status

            for path in ("/v1/images", "/v1/findings?vulnerability=CVE-1", "/v1/notifications", "/metrics",
                         "/v1/openapi.json"):
                assert await status(path) == 401, path
                assert await status(path, {"Authorization": "Bearer read-token-0123456789abcde"}) == 401
            read = {"Authorization": "Bearer read-token-0123456789abcdef"}
            assert await status("/v1/images", read) == 200
            assert await status("/v1/images", WEBHOOK) == 200  # the admin token reads too
            assert await status("/healthz") == 200  # probes stay open
    finally:
        await stack.stop()


async def test_metrics_listener_beyond_loopback_needs_the_read_token(config):
    from imagewatch.cli.embedded import free_port

    config.metrics_host, config.metrics_port = "0.0.0.0", free_port()
    config.api.read_token = "read-token-0123456789abcdef"
    stack = await Stack(config).start("matcher")
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{config.metrics_port}"
            async with http.get(url + "/metrics") as resp:
                assert resp.status == 401
            async with http.get(url + "/metrics", headers={"Authorization": f"Bearer {config.api.read_token}"}) as r:
                assert r.status == 200
            async with http.get(url + "/healthz") as resp:
                assert resp.status == 200
    finally:
        await stack.stop()


async def test_embedded_nats_refuses_anonymous_clients(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        with pytest.raises(Exception) as caught:
            await nats.connect(f"nats://127.0.0.1:{server.port}", connect_timeout=2, max_reconnect_attempts=0,
                               allow_reconnect=False)
        assert "authorization" in str(caught.value).lower() or "auth" in type(caught.value).__name__.lower()
        with pytest.raises(Exception):
            await nats.connect(f"nats://imagewatch:wrong-password@127.0.0.1:{server.port}", connect_timeout=2,
                               max_reconnect_attempts=0, allow_reconnect=False)
        nc = await nats.connect(server.url)
        await nc.close()
        password = tmp_path / "nats" / "nats-password"
        assert stat.S_IMODE(password.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "nats" / "nats-server.conf").stat().st_mode) == 0o600
        cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
        assert server.password.encode() not in cmdline and password.read_text() not in server.public_url
    finally:
        server.stop()


async def test_embedded_postgres_refuses_trust_login_and_touches_no_parent(tmp_path):
    root = tmp_path / "deep" / "data"
    root.parent.mkdir(parents=True)
    parents = [p for p in root.parents if p != Path("/")]
    modes = {p: p.stat().st_mode for p in parents}
    pg = EmbeddedPostgres(root / "postgres")
    await asyncio.to_thread(pg.start)
    try:
        assert {p: p.stat().st_mode for p in parents} == modes
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", database="imagewatch",
                                  password="")
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", database="imagewatch",
                                  password="wrong-password")
        conn = await asyncpg.connect(pg.url)
        try:
            method = await conn.fetchval("SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules")
            assert method == "scram-sha-256"
        finally:
            await conn.close()
        assert stat.S_IMODE((root / "postgres" / "postgres-password").stat().st_mode) == 0o600
        assert pg.password not in pg.public_url
    finally:
        await asyncio.to_thread(pg.stop)
        pg.remove()


@pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
async def test_scan_request_naming_an_old_digest_does_not_move_the_tag(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        old = await asyncio.to_thread(push_image, reg.host, "team/app", "1",
                                      ImageSpec(layers=[{"etc/hostname": b"old\n"}]))
        new = await asyncio.to_thread(push_image, reg.host, "team/app", "1",
                                      ImageSpec(layers=[{"etc/hostname": b"new\n"}]))
        stack = await Stack(config).start("api", "fetcher")
        try:
            async with aiohttp.ClientSession() as http:
                for ref in (f"{reg.host}/team/app:1", f"{reg.host}/team/app:1@{old.digest}"):
                    async with http.post(f"{stack.api_url}/v1/scans", json={"reference": ref},
                                         headers=WEBHOOK) as resp:
                        assert resp.status == 202, await resp.text()

            async def fetched_both():
                rows = await query(pg_dsn, "SELECT image_digest FROM scan_stages WHERE stage = 'fetcher' "
                                           "AND state = 'done'")
                return {r["image_digest"] for r in rows} >= {old.digest, new.digest} or None

            await wait_for(fetched_both, what="both images fetched")
            rows = await query(pg_dsn, "SELECT digest FROM image_tags WHERE repository = 'team/app' AND tag = '1'")
            assert [r["digest"] for r in rows] == [new.digest]
        finally:
            await stack.stop()


@pytest.mark.parametrize("reference", [
    "reg.example:5000/Team/App:1", "reg.example:5000/team/app@sha256:1234", "reg.example:5000/team/app:bad tag",
    "reg.example:5000/team/../../etc/passwd:1", "http://reg.example/team/app:1", "reg.example:5000/team/app:-x",
])
async def test_scan_request_with_an_invalid_reference_is_refused(config, reference):
    stack = await Stack(config).start("api")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{stack.api_url}/v1/scans", json={"reference": reference}, headers=WEBHOOK) as r:
                assert r.status == 400 and "reference" in (await r.json())["error"]
    finally:
        await stack.stop()


async def test_webhook_with_an_invalid_repository_is_refused(config):
    event = {"events": [{"id": "e1", "action": "push", "timestamp": "2026-01-01T00:00:00Z",
                         "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                    "digest": "sha256:" + "a" * 64, "repository": "team/../../x", "tag": "1",
                                    "url": "http://reg.example:5000/v2/team/x/manifests/sha256:" + "a" * 64},
                         "request": {"host": "reg.example:5000"}}]}
    stack = await Stack(config).start("api")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{stack.api_url}/v1/events/distribution", json=event, headers=WEBHOOK) as r:
                assert r.status == 400 and "invalid repository" in (await r.json())["error"]
    finally:
        await stack.stop()


def test_up_prints_server_urls_without_their_passwords():
    from imagewatch.cli.up import _without_password

    assert _without_password("nats://imagewatch:hunter2hunter2@127.0.0.1:4222") == "nats://imagewatch:***@127.0.0.1:4222"
    assert _without_password("postgresql://u:p4ss@db/x") == "postgresql://u:***@db/x"


async def test_a_trust_cluster_from_an_older_version_is_switched_to_scram(tmp_path):
    from imagewatch.cli.embedded import _pg_bin

    pg = EmbeddedPostgres(tmp_path / "data" / "postgres")
    pg._prepare_base()
    await asyncio.to_thread(pg._run, [_pg_bin("initdb"), "-D", str(pg.pgdata), "-U", "postgres", "--auth=trust",
                                      "--encoding=UTF8", "--no-sync"])
    await asyncio.to_thread(pg.start)
    try:
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres", database="imagewatch",
                                  password="")
        conn = await asyncpg.connect(pg.url)
        await conn.close()
        rules = [line for line in (pg.pgdata / "pg_hba.conf").read_text().splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        assert rules and all("trust" not in line and "scram-sha-256" in line for line in rules)
    finally:
        await asyncio.to_thread(pg.stop)
        pg.remove()
