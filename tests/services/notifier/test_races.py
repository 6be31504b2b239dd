"""Racing handlers and racing dispatchers (as with several replicas) queue and send each alert once."""

from __future__ import annotations

import asyncio

import aiohttp

from imagewatch.runtime.bus import Delivery
from imagewatch.notify.dispatcher import Dispatcher
from imagewatch.notify.events import EventHandler
from imagewatch.notify.settings import load_settings

from .conftest import channel, leaked, outbox_rows, store_image, vuln


async def test_concurrent_messages_for_one_event_queue_one_alert(notifier_config, receiver, pool, pg_dsn):
    notifier_config.notifier.channels = [channel(receiver, "a", "slack"), channel(receiver, "b", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["a", "b"]}]
    handler = EventHandler(pool, load_settings(notifier_config), lambda: None)
    event = await store_image(pool, "team-a/api", "1.0", findings=[vuln("CVE-1", "high")], secrets=[leaked()])
    delivery = Delivery("iw.test", "m", 1)
    await asyncio.gather(*[
        call for _ in range(5)
        for call in (handler.findings(event.findings_ready(), delivery), handler.secrets(event.secrets_ready(),
                                                                                         delivery))
    ])
    rows = await outbox_rows(pg_dsn)
    assert sorted(r["channel"] for r in rows) == ["a", "b"]


async def test_two_dispatchers_send_each_row_once(notifier_config, receiver, pool, pg_dsn):
    notifier_config.notifier.channels = [channel(receiver, "hook", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["hook"]}]
    settings = load_settings(notifier_config)
    handler = EventHandler(pool, settings, lambda: None)
    delivery = Delivery("iw.test", "m", 1)
    for i in range(6):
        event = await store_image(pool, f"team-a/app-{i}", "1.0", findings=[vuln("CVE-1", "high")])
        await handler.findings(event.findings_ready(), delivery)
    assert len(await outbox_rows(pg_dsn, "pending")) == 6

    channels = {c.name: c for c in settings.notify.channels}
    async with aiohttp.ClientSession() as session:
        first, second = (Dispatcher(pool, channels, session, batch_size=2) for _ in range(2))
        while await outbox_rows(pg_dsn, "pending"):
            await asyncio.gather(first.dispatch_once(), second.dispatch_once())
    assert len(await outbox_rows(pg_dsn, "sent")) == 6
    keys = [r.headers["X-Imagewatch-Idempotency-Key"] for r in receiver.to("hook")]
    assert len(keys) == len(set(keys)) == 6
