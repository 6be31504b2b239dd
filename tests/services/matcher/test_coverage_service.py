"""Coverage stored at match time (an Alpine 3.22 image with no data warns "not covered"), and the remediation API."""

from __future__ import annotations

import aiohttp

from harness.stack import Stack, query
from imagewatch.admission.policy import ContainerImage, ImageStatus, decide
from imagewatch.config import AdmissionConfig
from imagewatch.messages import SUBJECT_FINDINGS, SUBJECT_INVENTORY, FindingsReady, InventoryReady
from imagewatch.models import OSInfo
from imagewatch.notify.alert import ImageRef, build_alert
from imagewatch.notify.channels.wording import title
from imagewatch.store.db import connect_pool
from imagewatch.store.images import scan_summary

from matcher.helpers import REGISTRY, SECDB_319, URLLIB3, Tap, add_image, apk, import_advisories, pypi

ALPINE_322 = OSInfo(id="alpine", version_id="3.22.0")


async def _inventory(stack: Stack, digest: str, tag: str) -> None:
    await stack.services["matcher"].ctx.bus.publish(SUBJECT_INVENTORY, InventoryReady(
        image_digest=digest, registry=REGISTRY, repository="team/app", tag=tag, package_count=2), f"inv-{tag}")


async def test_uncovered_release_warns_in_api_admission_and_alert(config, pg_dsn, nats_url):
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    stack = Stack(config)
    tap = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    try:
        await import_advisories(pool, URLLIB3, SECDB_319)
        await stack.start("api", "matcher")
        await tap.start()
        bare = await add_image(pool, "alpine322", [apk("busybox", "1.37.0-r18"), pypi("urllib3", "1.24.1")],
                               tag="322", os=ALPINE_322)
        covered = await add_image(pool, "alpine319", [apk("libssl3", "3.1.4-r0", origin="openssl")], tag="319")
        await _inventory(stack, bare, "322")
        await _inventory(stack, covered, "319")
        await tap.wait(lambda m: m.image_digest == bare, what="push findings 3.22")
        await tap.wait(lambda m: m.image_digest == covered, what="push findings 3.19")

        async with aiohttp.ClientSession(base_url=stack.api_url) as http:
            async with http.get(f"/v1/images/{bare}") as resp:
                body = await resp.json()
            assert resp.status == 200
            entries = {e["ecosystem"]: e for e in body["coverage"]["entries"]}
            assert entries["Alpine:v3.22"]["kind"] == "os" and entries["Alpine:v3.22"]["records"] == 0
            assert entries["Alpine:v3.22"]["covered"] is False and entries["Alpine:v3.22"]["sources"] == []
            assert entries["PyPI"]["covered"] and entries["PyPI"]["records"] > 0 and "last_sync" in entries["PyPI"]
            [warning] = body["warnings"]
            assert "not covered" in warning and "Alpine:v3.22" in warning
            async with http.get(f"/v1/images/{covered}") as resp:
                body = await resp.json()
            [entry] = body["coverage"]["entries"]
            assert entry["covered"] and entry["sources"] == ["test"] and body["warnings"] == []

            # the remediation plan of the stored image: one apk line for the openssl origin
            async with http.get(f"/v1/images/{covered}/remediation") as resp:
                plan = await resp.json()
            assert resp.status == 200 and plan["image"] == covered
            [action] = plan["actions"]
            assert action["kind"] == "os" and action["package"] == "openssl" and action["packages"] == ["libssl3"]
            assert action["command"] == "apk add --upgrade libssl3" and action["fixes"] == plan["fixable"] > 0
            assert action["installed"] == ["3.1.4-r0"] and action["text"] == plan["top"]
            assert plan["headline"] == f"upgrade openssl to {action['target']} (fixes {action['fixes']})"
            async with http.get("/v1/images/sha256:nope/remediation") as resp:
                assert resp.status == 404

        async with pool.acquire() as conn:
            summary = await scan_summary(conn, [bare, covered])
        assert summary[bare]["not_covered"] == ["Alpine:v3.22"] and summary[covered]["not_covered"] == []
        status = ImageStatus(image=ContainerImage("app", "containers", "team/app:322"), digest=bare, scanned=True,
                             not_covered=summary[bare]["not_covered"])
        warned = decide(AdmissionConfig(), [status])
        assert warned.allowed and any("not covered (Alpine:v3.22" in w for w in warned.warnings)
        denied = decide(AdmissionConfig(deny_not_covered=True), [status])
        assert not denied.allowed and "not covered" in denied.message

        alert = build_alert(image=ImageRef(repository="team/app", tag="322", digest=bare), api_base="http://x",
                            not_covered=summary[bare]["not_covered"])
        assert "not covered: Alpine:v3.22" in title(alert)
        rows = await query(pg_dsn, "SELECT image_digest FROM image_coverage ORDER BY 1")
        assert sorted(r["image_digest"] for r in rows) == sorted([bare, covered])
    finally:
        await tap.close()
        await stack.stop()
        await pool.close()
