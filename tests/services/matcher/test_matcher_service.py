"""The matcher service on real NATS and PostgreSQL: push findings, tag deltas, the API, redelivery."""

from __future__ import annotations

import aiohttp

from harness.stack import Stack, query, wait_for
from imagewatch.messages import SUBJECT_FINDINGS, SUBJECT_INVENTORY, FindingsReady, InventoryReady
from imagewatch.store.db import connect_pool

from matcher.helpers import REGISTRY, SECDB_319, URLLIB3, Tap, add_image, apk, import_advisories, pypi

BASE = [apk("busybox", "1.36.1-r20"), apk("libssl3", "3.1.4-r0", origin="openssl")]


async def _inventory(stack: Stack, digest: str, tag: str, msg_id: str) -> None:
    await stack.services["matcher"].ctx.bus.publish(SUBJECT_INVENTORY, InventoryReady(
        image_digest=digest, registry=REGISTRY, repository="team/app", tag=tag, package_count=3), msg_id)


async def test_push_findings_tag_delta_and_api(config, pg_dsn, nats_url):
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    stack = Stack(config)
    tap = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    try:
        await import_advisories(pool, URLLIB3, SECDB_319)
        await stack.start("api", "matcher")
        await tap.start()

        first = await add_image(pool, "v1-a", [*BASE, pypi("urllib3", "1.24.1")])
        await _inventory(stack, first, "v1", "inv-1")
        [ready] = await tap.wait(lambda m: m.image_digest == first, what="push findings")
        assert ready.reason == "push" and ready.tag == "v1" and ready.registry == REGISTRY
        assert {"PYSEC-2019-133", "PYSEC-2020-148", "CVE-2023-5678"} <= set(ready.new)
        assert ready.fixed == [] and sum(ready.counts.values()) == len(ready.new)
        stages = await query(pg_dsn, "SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = 'matcher'",
                             first)
        assert stages[0]["state"] == "done"

        async with aiohttp.ClientSession(base_url=stack.api_url) as http:
            async with http.get(f"/v1/images/{first}/vulnerabilities") as resp:
                body = await resp.json()
            assert resp.status == 200 and body["total"] == len(ready.new)
            urllib3 = next(i for i in body["items"] if i["id"] == "PYSEC-2019-133")
            assert urllib3["cve"] == "CVE-2019-11324" and "GHSA-mh33-7rrq-662w" in urllib3["ids"]
            assert urllib3["installed_version"] == "1.24.1" and urllib3["fixed_versions"] == ["1.24.2"]
            assert urllib3["fixable"] is True and urllib3["package"] == "urllib3"
            assert urllib3["path"].endswith("METADATA") and urllib3["layer"].startswith("sha256:")
            ssl = next(i for i in body["items"] if i["id"] == "CVE-2023-5678")
            assert ssl["cve"] == "CVE-2023-5678" and ssl["package"] == "libssl3"

            severities = {i["severity"] for i in body["items"]}
            some = sorted(severities)[0]
            async with http.get(f"/v1/images/{first}/vulnerabilities", params={"severity": some}) as resp:
                assert {i["severity"] for i in (await resp.json())["items"]} == {some}
            async with http.get(f"/v1/images/{first}/vulnerabilities", params={"fixable": "false"}) as resp:
                assert all(not i["fixable"] for i in (await resp.json())["items"])
            pages, cursor = [], None
            while True:
                params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
                async with http.get(f"/v1/images/{first}/vulnerabilities", params=params) as resp:
                    page = await resp.json()
                pages += [i["id"] for i in page["items"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert pages == [i["id"] for i in body["items"]]
            async with http.get(f"/v1/images/{first}/vulnerabilities", params={"severity": "bad"}) as resp:
                assert resp.status == 400
            async with http.get("/v1/images/sha256:nope/vulnerabilities") as resp:
                assert resp.status == 404

            for params in ({"cve": "CVE-2019-11324"}, {"id": "PYSEC-2020-148"}, {"id": "GHSA-mh33-7rrq-662w"}):
                async with http.get("/v1/findings", params=params) as resp:
                    found = await resp.json()
                [item] = found["items"]
                assert item["digest"] == first and item["repositories"] == [f"{REGISTRY}/team/app"]
                assert item["tags"] == [f"{REGISTRY}/team/app:v1"]
                assert item["findings"][0]["package"] == "urllib3"
            async with http.get("/v1/findings", params={"cve": "CVE-1999-0001"}) as resp:
                assert (await resp.json())["items"] == []

        # The same tag now holds an image with urllib3 fixed for one advisory.
        second = await add_image(pool, "v1-b", [*BASE, pypi("urllib3", "1.24.3")])
        await _inventory(stack, second, "v1", "inv-2")
        [delta] = await tap.wait(lambda m: m.image_digest == second, what="second push")
        assert delta.fixed == ["PYSEC-2019-133"] and delta.new == []
        [row] = await query(pg_dsn, "SELECT digest, previous, new_ids, fixed_ids FROM tag_results")
        assert (row["digest"], row["previous"], row["fixed_ids"]) == (second, first, ["PYSEC-2019-133"])

        # Redelivery (a new message id for the same image) changes nothing and publishes nothing new.
        before = await query(pg_dsn, "SELECT key, first_seen FROM findings WHERE image_digest = $1 ORDER BY key",
                             second)
        await _inventory(stack, second, "v1", "inv-2-again")
        await wait_for(lambda: _pending(stack), what="matcher idle")
        after = await query(pg_dsn, "SELECT key, first_seen FROM findings WHERE image_digest = $1 ORDER BY key",
                            second)
        assert before == after
        assert len([m for m in tap.messages if m.image_digest == second]) == 1
    finally:
        await tap.close()
        await stack.stop()
        await pool.close()


async def _pending(stack: Stack) -> bool:
    bus = stack.services["matcher"].ctx.bus
    return await bus.consumer_pending("matcher", SUBJECT_INVENTORY) == 0
