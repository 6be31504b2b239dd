"""Advisory changes re-match stored images: no registry, no fetcher, only iw.vulndb."""

from __future__ import annotations

import json

from harness.stack import Stack, query, wait_for
from imagewatch.runtime.bus import Bus
from imagewatch.messages import (
    SUBJECT_FINDINGS, SUBJECT_INVENTORY, SUBJECT_VULNDB, FindingsReady, InventoryReady, VulnDBChanged,
)
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths
from imagewatch.matcher.rematch import rematch_image

from .helpers import REGISTRY, URLLIB3, Tap, add_image, apk, import_advisories, pypi


def _osv(adv_id: str, ecosystem: str, name: str, fixed: str, *, aliases=(), withdrawn: str = "",
         modified: str = "2030-01-01T00:00:00Z") -> dict:
    doc = {"id": adv_id, "modified": modified, "aliases": list(aliases), "summary": f"{name} test advisory",
           "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}
    if withdrawn:
        doc["withdrawn"] = withdrawn
    return doc


def _write(folder, *docs: dict):
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc))
    return folder


async def test_new_advisory_rematches_and_withdrawn_stops_matching(config, pg_dsn, nats_url, tmp_path):
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    stack = Stack(config)
    findings = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    vulndb = Tap(nats_url, SUBJECT_VULNDB, VulnDBChanged)
    bus = None
    try:
        await import_advisories(pool, URLLIB3)
        known = await add_image(pool, "known", [apk("busybox", "1.36.1-r20"), pypi("urllib3", "1.24.1")])
        other = await add_image(pool, "other", [pypi("requests", "2.31.0")], repository="team/other")
        await stack.start("matcher")  # no fetcher, no registry: only the store and the bus
        await findings.start()
        await vulndb.start()
        for digest, repository in ((known, "team/app"), (other, "team/other")):
            await stack.services["matcher"].ctx.bus.publish(SUBJECT_INVENTORY, InventoryReady(
                image_digest=digest, registry=REGISTRY, repository=repository, tag="v1"), f"inv-{digest}")
        await wait_for(lambda: _count(findings, 2, "push"), what="push matches")
        bus = await Bus.connect(config.bus, name="test-import")

        new = _write(tmp_path / "new", _osv("GHSA-test-0001", "PyPI", "urllib3", "1.26.0", aliases=["CVE-2099-0001"]),
                     _osv("ALPINE-TEST-1", "Alpine:v3.19", "busybox", "1.36.1-r99"))
        results = await import_paths(pool, [new], bus)
        assert {(r.source, r.state) for r in results} == {("osv:PyPI", "changed"), ("osv:Alpine", "changed")}
        await vulndb.wait(lambda m: True, what="iw.vulndb")
        got = await findings.wait(lambda m: m.reason == "advisory", what="advisory findings")
        await wait_for(lambda: _count(findings, 2, "advisory"), what="both updates re-matched")
        advisory_msgs = [m for m in findings.messages if m.reason == "advisory"]
        assert {m.image_digest for m in advisory_msgs} == {known}
        assert sorted(m.advisories[0] for m in advisory_msgs) == ["ALPINE-TEST-1", "GHSA-test-0001"]
        assert all(m.new == m.advisories and len(m.advisories) == 1 for m in advisory_msgs)
        assert got[0].repository == "team/app" and got[0].tag == "v1"
        rows = await query(pg_dsn, "SELECT advisory_id, ids FROM findings WHERE image_digest = $1", known)
        assert {"GHSA-test-0001", "ALPINE-TEST-1", "PYSEC-2019-133"} <= {r["advisory_id"] for r in rows}
        assert not await query(pg_dsn, "SELECT 1 FROM findings WHERE image_digest = $1", other)

        # Redelivery of an update: the recorded result is published again, and the stream drops it.
        update_id = next(m.update_id for m in vulndb.messages if m.source == "osv:PyPI")
        ctx = stack.services["matcher"].ctx
        assert await rematch_image(ctx, known, update_id, [("PyPI", "urllib3")]) == ["GHSA-test-0001"]
        await wait_for(lambda: _idle(ctx.bus), what="matcher idle")
        assert len([m for m in findings.messages if m.reason == "advisory"]) == 2

        # Withdrawn: the finding goes away on the next update, and nothing new is announced.
        gone = _write(tmp_path / "gone", _osv("GHSA-test-0001", "PyPI", "urllib3", "1.26.0",
                                              aliases=["CVE-2099-0001"], modified="2030-02-01T00:00:00Z",
                                              withdrawn="2030-02-01T00:00:00Z"))
        [result] = await import_paths(pool, [gone], bus)
        assert result.state == "changed" and result.changed == [("PyPI", "urllib3")]
        await wait_for(lambda: _without(pg_dsn, known, "GHSA-test-0001"), what="withdrawn finding removed")
        assert len([m for m in findings.messages if m.reason == "advisory"]) == 2
    finally:
        if bus is not None:
            await bus.close()
        await findings.close()
        await vulndb.close()
        await stack.stop()
        await pool.close()


async def _count(tap: Tap, n: int, reason: str) -> bool:
    return len([m for m in tap.messages if m.reason == reason]) >= n


async def _idle(bus: Bus) -> bool:
    return await bus.consumer_pending("matcher", SUBJECT_VULNDB) == 0


async def _without(dsn: str, digest: str, adv_id: str) -> bool:
    rows = await query(dsn, "SELECT 1 FROM findings WHERE image_digest = $1 AND advisory_id = $2", digest, adv_id)
    return not rows
