"""Retention against real PostgreSQL and a real registry: what is marked gone, deleted and kept."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path


import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from imagewatch.config import FetcherConfig, RetentionConfig
from imagewatch.fetcher import fetch
from imagewatch.models import Finding, LayerRef
from imagewatch.store import findings as findings_store
from imagewatch.store import images as images_store
from imagewatch.store import retention as store
from imagewatch.store.db import connect_pool
from imagewatch.updater.retention import check_registry, run_retention

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with run_registry(tmp_path_factory.mktemp("retention-registry")) as running:
        yield running


def _spec(n: int) -> ImageSpec:
    return ImageSpec(layers=[{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"}, {f"app/{n}.txt": f"{n}\n"}])


async def _record(conn, host: str, repository: str, tag: str, digest: str, layer: str) -> None:
    await images_store.record_image(
        conn, digest=digest, registry=host, repository=repository,
        media_type="application/vnd.oci.image.manifest.v1+json", platform="linux/amd64",
        config_digest="sha256:" + "c" * 64, config=None, index_digest="",
        layers=[LayerRef(digest=layer, diff_id=layer, size=1,
                         media_type="application/vnd.oci.image.layer.v1.tar+gzip")], tag=tag)
    await images_store.set_stage(conn, digest, "matcher", "done")
    await findings_store.replace_findings(conn, digest, [Finding(
        advisory_id="CVE-2024-0001", ids=["CVE-2024-0001"], package="musl", version="1.2.4-r0",
        ecosystem="Alpine:v3.19", severity="high")])


def _delete_manifest(host: str, repository: str, digest: str) -> None:
    req = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{digest}", method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202


async def _client_run(pool, host: str, batch: int = 100):
    fetcher = FetcherConfig(insecure_registries=[host])
    async with fetch.session_for(fetch.egress_policy(fetcher)) as session:
        return await check_registry(pool, fetch.make_client(session, fetcher, use_docker_config=False), batch)


async def test_deleted_image_is_marked_gone_then_pruned_after_the_window_live_ones_never(pg_dsn, registry):
    host = registry.host
    live = push_image(host, "ret/app", "live", _spec(1)).digest
    moved_from = push_image(host, "ret/app", "moving", _spec(2)).digest
    moved_to = push_image(host, "ret/app", "moving", _spec(3)).digest  # the tag moved; the old digest is still served
    deleted = push_image(host, "ret/app", "deleted", _spec(4)).digest
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    try:
        async with pool.acquire() as conn:
            await _record(conn, host, "ret/app", "live", live, "sha256:" + "1" * 64)
            await _record(conn, host, "ret/app", "moving", moved_from, "sha256:" + "2" * 64)
            await _record(conn, host, "ret/app", "moving", moved_to, "sha256:" + "3" * 64)
            await _record(conn, host, "ret/app", "deleted", deleted, "sha256:" + "4" * 64)
        _delete_manifest(host, "ret/app", deleted)

        first = await _client_run(pool, host)
        # the deleted tag answers 404 and is dropped; the image it held is untagged now, next pass asks for it
        assert (first.tags_checked, first.tags_dropped, first.errors) == (3, 1, 0)
        assert first.images_checked == 2 and first.images_gone == 1  # moved_from (served) and deleted (404)
        async with pool.acquire() as conn:
            assert [d for d, _ in await store.gone_images(conn)] == [deleted]
            assert await conn.fetchval("SELECT count(*) FROM image_tags WHERE tag = 'deleted'") == 0

            # inside the window nothing is deleted
            kept = await store.prune(conn, gone_after_days=30, history_days=90,
                                     now=datetime.now(timezone.utc) + timedelta(days=29))
            assert kept.deleted.get("images", 0) == 0
            # past it the gone image goes with its findings, stages and layer; live and served ones stay
            pruned = await store.prune(conn, gone_after_days=30, history_days=90, batch=1,
                                       now=datetime.now(timezone.utc) + timedelta(days=31))
            assert pruned.deleted["images"] == 1 and pruned.deleted["layers"] == 1
            assert await conn.fetchval("SELECT count(*) FROM findings WHERE image_digest = $1", deleted) == 0
            assert await conn.fetchval("SELECT count(*) FROM scan_stages WHERE image_digest = $1", deleted) == 0
            assert await conn.fetchval("SELECT count(*) FROM layers WHERE digest = $1", "sha256:" + "4" * 64) == 0
            left = {r["digest"] for r in await conn.fetch("SELECT digest FROM images")}
            assert left == {live, moved_from, moved_to}
            assert await conn.fetchval("SELECT count(*) FROM findings") == 3

            # years later, nothing the registry serves is ever deleted
            await store.prune(conn, gone_after_days=1, history_days=1,
                              now=datetime.now(timezone.utc) + timedelta(days=3650))
            assert {r["digest"] for r in await conn.fetch("SELECT digest FROM images")} == left
    finally:
        await pool.close()


async def test_an_unreachable_registry_marks_nothing_gone(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    closed = "127.0.0.1:9"  # discard port: nothing listens
    try:
        async with pool.acquire() as conn:
            await _record(conn, closed, "ret/app", "", "sha256:" + "a" * 64, "sha256:" + "5" * 64)
        result = await _client_run(pool, closed)
        assert (result.images_checked, result.images_gone, result.errors) == (1, 0, 1)
        async with pool.acquire() as conn:
            assert await store.gone_images(conn) == []
            assert await conn.fetchval("SELECT checked_at IS NOT NULL FROM images") is True
    finally:
        await pool.close()


async def test_a_gone_image_pushed_again_is_live_again(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    digest = "sha256:" + "b" * 64
    try:
        async with pool.acquire() as conn:
            await _record(conn, "r.example", "ret/app", "", digest, "sha256:" + "6" * 64)
            await store.mark_images(conn, [], [digest])
            assert [d for d, _ in await store.gone_images(conn)] == [digest]
            await _record(conn, "r.example", "ret/app", "again", digest, "sha256:" + "6" * 64)
            assert await store.gone_images(conn) == []
            # a tagged image is never marked gone, whatever the check saw
            await store.mark_images(conn, [], [digest])
            assert await store.gone_images(conn) == []
    finally:
        await pool.close()


async def test_history_older_than_history_days_goes_newer_stays(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    now = datetime.now(timezone.utc)
    try:
        async with pool.acquire() as conn:
            for days in (200, 100, 10):
                await conn.execute("INSERT INTO scan_failures (reference, stage, reason, failed_at) "
                                   "VALUES ($1, 'fetcher', 'x', $2)", f"r/{days}", now - timedelta(days=days))
            await conn.execute("""INSERT INTO notifier_outbox (idempotency_key, channel, kind, image_digest,
                                    repository, reason, body, state, created_at)
                                  VALUES ('a', 'c', 'webhook', 'sha256:x', 'r', 'push', '', 'sent', $1),
                                         ('b', 'c', 'webhook', 'sha256:x', 'r', 'push', '', 'pending', $1)""",
                               now - timedelta(days=200))
            pruned = await store.prune(conn, gone_after_days=30, history_days=90, batch=1)
            assert pruned.deleted["scan_failures"] == 2 and pruned.deleted["notifier_outbox"] == 1
            assert [r["reference"] for r in await conn.fetch("SELECT reference FROM scan_failures")] == ["r/10"]
            # an undelivered notification is never dropped, however old
            assert [r["state"] for r in await conn.fetch("SELECT state FROM notifier_outbox")] == ["pending"]
            off = await store.prune(conn, gone_after_days=0, history_days=0)
            assert not any(off.deleted.values())
    finally:
        await pool.close()


async def test_tag_history_keeps_what_the_trend_window_needs(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    now = datetime.now(timezone.utc)
    old, current, vanished = ("sha256:" + c * 64 for c in "abc")
    try:
        async with pool.acquire() as conn:
            await _record(conn, "r.example", "hist/app", "", current, "sha256:" + "8" * 64)
            await _record(conn, "r.example", "hist/base", "", old, "sha256:" + "9" * 64)
            await conn.execute("DELETE FROM tag_history")
            rows = [("hist/app", "old", old, 200), ("hist/app", "old", current, 120),  # both before the window
                    ("hist/app", "mid", old, 150), ("hist/app", "mid", current, 30),   # successor inside it
                    ("hist/gone", "x", vanished, 100)]                                 # image no longer stored
            for repository, tag, digest, days in rows:
                await conn.execute("INSERT INTO tag_history (registry, repository, tag, digest, since) "
                                   "VALUES ('r.example', $1, $2, $3, $4)", repository, tag, digest,
                                   now - timedelta(days=days))
            pruned = await store.prune(conn, gone_after_days=0, history_days=90, batch=1)
            assert pruned.deleted["tag_history"] == 2
            left = {(r["tag"], r["digest"]) for r in await conn.fetch("SELECT tag, digest FROM tag_history")}
            assert left == {("old", current), ("mid", old), ("mid", current)}
    finally:
        await pool.close()


async def test_run_retention_and_the_prune_command(pg_dsn, tmp_path):
    pool = await connect_pool(pg_dsn, 1, 3, migrate=False)
    try:
        async with pool.acquire() as conn:
            await _record(conn, "r.example", "ret/app", "", "sha256:" + "e" * 64, "sha256:" + "7" * 64)
            await store.mark_images(conn, [], ["sha256:" + "e" * 64])
            await conn.execute("UPDATE images SET gone_at = now() - interval '40 days'")
        checked, pruned = await run_retention(pool, None, RetentionConfig(gone_after_days=60))
        assert checked is None and pruned.deleted.get("images", 0) == 0
        # one pass at a time: a pass while another holds the lock does nothing
        async with pool.acquire() as other:
            assert await store.try_lock(other)
            try:
                assert await run_retention(pool, None, RetentionConfig(gone_after_days=1)) is None
            finally:
                await store.unlock(other)
    finally:
        await pool.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWATCH_")}
    env.update(IMAGEWATCH_DATABASE_URL=pg_dsn, IMAGEWATCH_DATA_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "imagewatch.cli", "db", "prune", "--gone-after-days", "30"],
                          capture_output=True, text=True, env=env, cwd=Path(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "1 images" in proc.stdout and "1 findings" not in proc.stdout  # findings go by cascade, uncounted
    bad = subprocess.run([sys.executable, "-m", "imagewatch.cli", "db", "prune", "--history-days", "-1"],
                         capture_output=True, text=True, env=env, cwd=Path(tmp_path), timeout=120)
    assert bad.returncode == 2 and "--history-days" in bad.stderr


async def test_the_updater_service_runs_the_retention_pass(config, pg_dsn, registry, monkeypatch):
    import asyncio

    from harness.stack import Stack

    host = registry.host
    deleted = push_image(host, "ret/svc", "gone", _spec(10)).digest
    pool = await connect_pool(pg_dsn, 1, 2, migrate=False)
    try:
        async with pool.acquire() as conn:
            await _record(conn, host, "ret/svc", "gone", deleted, "sha256:" + "8" * 64)
            await conn.execute("INSERT INTO scan_failures (reference, stage, reason, failed_at) "
                               "VALUES ('old', 'fetcher', 'x', now() - interval '400 days')")
        _delete_manifest(host, "ret/svc", deleted)
        monkeypatch.setattr("imagewatch_services.updater.main.RETENTION_FIRST_DELAY", 0.0)
        monkeypatch.setattr("imagewatch_services.updater.main.available_sources", lambda: {})
        config.fetcher.insecure_registries = [host]
        config.retention.interval_hours = 0.0005  # the tag is dropped in one pass, the image marked gone in the next
        stack = Stack(config)
        try:
            await stack.start("updater")
            for _ in range(300):
                async with pool.acquire() as conn:
                    if await store.gone_images(conn):
                        break
                await asyncio.sleep(0.1)
        finally:
            await stack.stop()
        async with pool.acquire() as conn:
            assert [d for d, _ in await store.gone_images(conn)] == [deleted]
            assert await conn.fetchval("SELECT count(*) FROM image_tags") == 0
            assert await conn.fetchval("SELECT count(*) FROM scan_failures") == 0  # past history_days (90)
            assert await conn.fetchval("SELECT count(*) FROM images") == 1  # gone today: kept for gone_after_days
    finally:
        await pool.close()
