"""Delivery through the service: retries, 429 with Retry-After, giving up, surviving a restart."""

from __future__ import annotations

import aiohttp

from harness.stack import wait_for
from imagewatch.notify.signing import verify

from .conftest import SIGNING_KEY, TOKEN, announce, channel, outbox_rows, store_image, vuln, wait_rows


async def _one_alert(notifier_config, stack, receiver, bus, pool, kind: str = "webhook", *names: str):
    notifier_config.notifier.channels = [channel(receiver, "hook", kind)]
    notifier_config.notifier.routes = [{"channels": ["hook"]}]
    await stack.start("notifier", *names)
    event = await store_image(pool, "team-a/api", "1.0", findings=[vuln("CVE-1", "critical")])
    await announce(bus, event)
    return event


async def test_retry_after_500_delivers_once_signed_afresh(notifier_config, stack, receiver, bus, pool, pg_dsn):
    receiver.responses = [(500, {}), (503, {})]
    await _one_alert(notifier_config, stack, receiver, bus, pool)
    [row] = await wait_rows(pg_dsn, 1)
    got = receiver.to("hook")
    assert len(got) == 3
    assert row["attempts"] == 3 and row["last_status"] == 200 and row["last_error"] is None
    assert row["sent_at"] is not None
    # Every attempt carries the same idempotency key and its own valid signature.
    assert {r.headers["X-Imagewatch-Idempotency-Key"] for r in got} == {row["idempotency_key"]}
    for r in got:
        verify(SIGNING_KEY, r.headers["X-Imagewatch-Signature"], r.body)
    assert len({r.body for r in got}) == 1


async def test_429_waits_for_retry_after(notifier_config, stack, receiver, bus, pool, pg_dsn):
    receiver.responses = [(429, {"Retry-After": "1"})]
    await _one_alert(notifier_config, stack, receiver, bus, pool, "slack")
    await wait_rows(pg_dsn, 1)
    first, second = receiver.to("hook")
    # The receiver asked for one second; backoff alone would have retried within 0.05 s.
    assert second.at - first.at >= 1.0


async def test_gives_up_after_max_attempts_and_shows_failure_in_api(notifier_config, stack, receiver, bus,
                                                                     pool, pg_dsn):
    notifier_config.notifier.max_attempts = 3
    receiver.responses = [(500, {})] * 10
    event = await _one_alert(notifier_config, stack, receiver, bus, pool, "mattermost", "api")
    [row] = await wait_rows(pg_dsn, 1, state="failed")
    assert row["attempts"] == 3 and row["last_status"] == 500
    assert row["last_error"].startswith("notifier: gave up after 3 attempts: notify: HTTP 500 from http://127.0.0.1")
    assert TOKEN not in row["last_error"]
    assert len(receiver.to("hook")) == 3

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.api_url}/v1/notifications", params={"state": "failed"}) as resp:
            assert resp.status == 200
            text = await resp.text()
            listing = await resp.json()
        async with http.get(f"{stack.api_url}/v1/notifications", params={"state": "sent"}) as resp:
            assert (await resp.json())["items"] == []
        async with http.get(f"{stack.api_url}/v1/notifications", params={"state": "bogus"}) as resp:
            assert resp.status == 400
    [item] = listing["items"]
    assert item["channel"] == "hook" and item["kind"] == "mattermost" and item["state"] == "failed"
    assert item["image_digest"] == event.digest and (item["repository"], item["tag"]) == ("team-a/api", "1.0")
    assert item["attempts"] == 3 and "HTTP 500" in item["last_error"]
    assert item["created_at"] and item["sent_at"] is None
    assert TOKEN not in text and "/hooks/" not in text


async def test_permanent_error_fails_at_once(notifier_config, stack, receiver, bus, pool, pg_dsn):
    receiver.responses = [(404, {})]
    await _one_alert(notifier_config, stack, receiver, bus, pool, "discord")
    [row] = await wait_rows(pg_dsn, 1, state="failed")
    assert row["attempts"] == 1 and row["last_status"] == 404
    assert len(receiver.to("hook")) == 1


async def test_restart_while_receiver_down_delivers_once_back(notifier_config, stack, receiver, bus, pool,
                                                               pg_dsn):
    notifier_config.notifier.retry_base = 0.2
    notifier_config.notifier.max_attempts = 100
    await receiver.stop()  # connections are refused
    await _one_alert(notifier_config, stack, receiver, bus, pool, "googlechat")

    async def tried():
        rows = await outbox_rows(pg_dsn, "pending")
        return rows if rows and rows[0]["attempts"] >= 1 else None
    [row] = await wait_for(tried, timeout=10, interval=0.05, what="a failed attempt")
    assert "ClientConnectorError" in row["last_error"] and TOKEN not in row["last_error"]
    await stack.stop("notifier")

    await receiver.start()
    await stack.start("notifier")
    [sent] = await wait_rows(pg_dsn, 1)
    assert sent["id"] == row["id"] and sent["attempts"] >= 2
    assert len(receiver.to("hook")) == 1
    assert len(await outbox_rows(pg_dsn)) == 1
