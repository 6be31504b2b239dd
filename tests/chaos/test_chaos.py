"""The chaos suite: faults injected into the running pipeline; nothing lost, nothing twice.

Each case pushes real images to a real registry whose notifications drive the
whole pipeline (supervised processes, see ``chaos.pipeline``), injects its
fault, and waits, bounded, for every image to complete with exactly one alert.
Fewer pushes than the issue's 20 per case keep the suite inside its time
budget (the faults per case are the same). Bounds are limits on waiting, not
timings: speed is measured by ``bench/recovery.py``.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import asyncpg
import pytest

from chaos.pipeline import MAX_DELIVER, TOKEN, Pipeline, image, wait_until

STAGES = ("fetcher", "inventory", "secrets", "matcher", "notifier")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _restarted(p: Pipeline, names) -> bool:
    return all(p.supervisor.restarts(n) >= 1 and p.pid(n) for n in names)


async def _in_flight(p: Pipeline, stage: str, digest: str) -> bool:
    rows = await p.query("SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = $2", digest, stage)
    return bool(rows) and rows[0]["state"] in ("running", "done")


@pytest.mark.chaos_long
async def test_kill_9_a_worker_of_each_stage_while_messages_are_in_flight(pipeline: Pipeline):
    p = pipeline
    digests: list[str] = []
    kills: list[tuple[float, str]] = []
    for n, stage in enumerate(STAGES):
        # a 2 MiB file makes each stage take a moment, so the kill finds the message in flight
        digest = await p.push("chaos/kill", f"v{n}", image("kill", n, {"app/data.bin": os.urandom(2 << 20)}))
        digests.append(digest)
        # kill the stage's worker as soon as this image reaches it (when it was quicker than the
        # poll, the kill lands just after; the table counts the stages really taken over)
        await wait_until(lambda: _in_flight(p, stage, digest), 60, f"{stage} to take the image", interval=0.02)
        kills.append((p.kill(stage), digest))
    await wait_until(lambda: p.completed(digests), 120, "every image complete after the kills")
    recovery = max(p.chat.received(d)[0] - at for at, d in kills)
    redelivered = await p.query("""SELECT count(*) AS n FROM scan_stages WHERE attempts > 1
                                   AND image_digest = ANY($1::text[])""", digests)
    result = p.result(f"1 kill -9 each stage ({redelivered[0]['n']} taken over)", digests, len(kills), recovery)
    assert (result.lost, result.duplicates) == (0, 0)
    await wait_until(lambda: _restarted(p, STAGES), 30, "every killed worker restarted")
    assert await p.findings_duplicates() == 0


@pytest.mark.chaos_long
async def test_postgres_restarted_fast_mid_run(pipeline: Pipeline):
    p = pipeline
    digests = [await p.push("chaos/pg", f"v{n}", image("pg", n)) for n in range(3)]
    await wait_until(lambda: _in_flight(p, "fetcher", digests[-1]), 60, "the last image in flight")
    restarted = p.pg_fast_restart()
    await wait_until(lambda: p.completed(digests), 120, "every image complete after the restart")
    recovery = max(p.chat.received(d)[0] for d in digests) - restarted
    result = p.result("2 PostgreSQL fast restart", digests, 1, recovery)
    assert (result.lost, result.duplicates) == (0, 0)
    assert await p.findings_duplicates() == 0
    outbox = await p.query("""SELECT image_digest, count(*) AS n FROM notifier_outbox
                              WHERE image_digest = ANY($1::text[]) GROUP BY 1""", digests)
    assert sorted(r["n"] for r in outbox) == [1, 1, 1]


async def _readyz(p: Pipeline) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{p.api}/readyz") as resp:
            return resp.status, await resp.json()


@pytest.mark.chaos_long
async def test_nats_killed_and_brought_back_by_supervision(pipeline: Pipeline):
    p = pipeline
    before = await p.push("chaos/nats", "before", image("nats", 0))
    p.supervisor.base = 3.0  # the outage must outlast a few webhooks
    try:
        killed = p.kill("nats")
        await wait_until(lambda: _not_ready(p), 30, "the api reporting NATS down on /readyz")
        during = await p.push("chaos/nats", "during", image("nats", 1))
        event = {"events": [{"id": "chaos-resent-1", "action": "push", "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": during,
            "repository": "chaos/nats", "tag": "during",
            "url": f"http://{p.registry.host}/v2/chaos/nats/manifests/{during}"}}]}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{p.api}/v1/events/distribution", json=event, headers=AUTH) as resp:
                refused = (resp.status, resp.headers.get("Retry-After"))
            await wait_until(lambda: _is_ready(p), 60, "NATS back and the api ready again")
            async with http.post(f"{p.api}/v1/events/distribution", json=event, headers=AUTH) as resp:
                accepted = resp.status
    finally:
        p.supervisor.base = 0.2
    assert refused[0] == 503 and refused[1] and int(refused[1]) > 0
    assert accepted == 202
    assert p.supervisor.restarts("nats") >= 1
    digests = [before, during]
    await wait_until(lambda: p.completed(digests), 120, "both images complete after the outage")
    result = p.result("3 NATS kill -9, supervised", digests, 1,
                      max(p.chat.received(d)[0] for d in digests) - killed)
    assert (result.lost, result.duplicates) == (0, 0)


async def _not_ready(p: Pipeline) -> bool:
    status, body = await _readyz(p)
    return status == 503 and body["checks"]["nats"] is False


async def _is_ready(p: Pipeline) -> bool:
    return (await _readyz(p))[0] == 200


async def test_chat_endpoint_down_then_back(pipeline: Pipeline):
    p = pipeline
    await p.chat.down()
    try:
        digests = [await p.push("chaos/chat", f"v{n}", image("chat", n)) for n in range(2)]

        async def failing() -> bool:
            rows = await p.query("""SELECT count(*) AS n FROM notifier_outbox WHERE image_digest = ANY($1::text[])
                                    AND attempts >= 2 AND state = 'pending'""", digests)
            return rows[0]["n"] == len(digests)
        await wait_until(failing, 90, "deliveries failing while the chat service is down")
    finally:
        back = time.monotonic()
        await p.chat.up()
    await wait_until(lambda: p.completed(digests), 60, "every alert delivered once the chat is back")
    result = p.result("4 chat endpoint down (retries, cap 2 s)", digests, 1,
                      max(p.chat.received(d)[0] for d in digests) - back)
    assert (result.lost, result.duplicates) == (0, 0)


async def test_blob_directory_full_fails_with_reason_then_recovers(pipeline: Pipeline):
    p = pipeline
    stat = os.statvfs(p.blob_dir)
    filler = p.blob_dir / "filler"
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * (stat.f_bavail * stat.f_frsize))
        except OSError:
            pass  # full is what we want
    try:
        digest = await p.push("chaos/disk", "v1", image("disk", 1, {"app/blob.bin": os.urandom(256 * 1024)}))

        async def failed_reason():
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{p.api}/v1/images/{digest}") as resp:
                    if resp.status != 200:
                        return None
                    stage = (await resp.json())["stages"]["fetcher"]
            return stage.get("reason") if stage["state"] == "failed" else None
        reason = await wait_until(failed_reason, 60, "the fetcher stage failed with its reason")
    finally:
        filler.unlink()
        freed = time.monotonic()
    assert "no space left" in reason and str(p.blob_dir) in reason
    await wait_until(lambda: p.completed([digest]), 90, "the image complete once space returned")
    result = p.result("5 blob directory full (tmpfs)", [digest], 1, p.chat.received(digest)[0] - freed)
    assert (result.lost, result.duplicates) == (0, 0)


@pytest.mark.chaos_long
async def test_poison_message_is_dead_lettered_retryable_and_harms_no_one(pipeline: Pipeline):
    p = pipeline
    others = [await p.push("chaos/poison", f"ok{n}", image("poison-ok", n)) for n in range(2)]
    await wait_until(lambda: p.completed(others), 90, "the other images complete")
    # many files: the analyser takes a moment on this layer, long enough to be "crashed" on it
    poison = await p.push("chaos/poison", "bad",
                          image("poison-bad", 0, {f"app/many/{i}.txt": b"%d\n" % i for i in range(12000)}))
    kills = 0
    polls = 0
    conn = await asyncpg.connect(p.dsn)

    async def crash_or_letter():
        # The layer "crashes the analyser": the inventory process dies whenever it handles this image.
        nonlocal kills, polls
        polls += 1
        rows = await conn.fetch("""SELECT state, attempts FROM scan_stages
                                   WHERE image_digest = $1 AND stage = 'inventory'""", poison)
        if rows and rows[0]["state"] == "running" and rows[0]["attempts"] > kills and p.pid("inventory"):
            p.kill("inventory")
            kills += 1
        return await _letter(p, poison) if polls % 25 == 0 else None
    try:
        letter = await wait_until(crash_or_letter, 120, "the poison message dead-lettered", interval=0.01)
    finally:
        await conn.close()
    assert kills == MAX_DELIVER and letter["deliveries"] == MAX_DELIVER + 1
    assert letter["stage"] == "inventory" and "gave up after" in letter["error"]
    stage = await p.query("SELECT state, reason FROM scan_stages WHERE image_digest = $1 AND stage = 'inventory'",
                          poison)
    assert stage[0]["state"] == "failed" and "gave up after" in stage[0]["reason"]
    after = await p.push("chaos/poison", "ok-after", image("poison-ok", 9))
    await wait_until(lambda: p.completed([after]), 90, "an image pushed after the poison")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{p.api}/v1/dlq/{letter['id']}/retry", headers=AUTH) as resp:
            assert resp.status in (200, 202)
    await wait_until(lambda: p.completed([poison]), 90, "the poison image once retried (no longer crashing)")
    digests = [*others, after, poison]
    result = p.result("6 poison message (inventory killed on it)", digests, kills, None)
    assert (result.lost, result.duplicates) == (0, 0)


async def _letter(p: Pipeline, digest: str):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{p.api}/v1/dlq", params={"stage": "inventory"}, headers=AUTH) as resp:
            items = (await resp.json())["items"]
    return next((i for i in items if (i["message"] or {}).get("image_digest") == digest), None)
