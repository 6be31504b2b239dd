"""Heartbeats: a handler slower than ack_wait is not redelivered; a dead one's message is; stalled stages."""

from __future__ import annotations

import asyncio

from imagewatch.config import BusConfig
from imagewatch.messages import SUBJECT_PUSH, PushEvent
from imagewatch.runtime.bus import Bus, Worker
from imagewatch.store import images
from imagewatch.store.db import connect_pool

from harness.stack import wait_for


def event(n: int) -> PushEvent:
    return PushEvent(event_id=f"e{n}", source="test", registry="r", repository="a", tag=str(n))


async def test_slow_handler_keeps_its_message_with_heartbeats(nats_url):
    bus = await Bus.connect(BusConfig(url=nats_url, ack_wait=1.0))
    try:
        await bus.publish(SUBJECT_PUSH, event(1), msg_id="slow")
        calls: list[int] = []
        beats: list[list[str]] = []

        async def slow(msg, delivery):
            calls.append(delivery.attempt)
            delivery.images.add("sha256:child")
            await asyncio.sleep(3.5)  # three and a half ack_waits

        async def on_heartbeat(stage, digests):
            beats.append(digests)

        worker = Worker(bus, "slow", SUBJECT_PUSH, PushEvent, slow, concurrency=2, on_heartbeat=on_heartbeat)
        task = asyncio.create_task(worker.run())
        await wait_for(lambda: _drained(bus, "slow"), timeout=30, what="the slow message acked")
        await asyncio.sleep(1.5)  # a redelivery would have arrived by now
        worker.stop()
        await task
        assert calls == [1]
        assert beats and all(b == ["sha256:child"] for b in beats)
    finally:
        await bus.close()


async def test_message_of_a_dead_worker_is_redelivered_and_taken_over(nats_url):
    bus = await Bus.connect(BusConfig(url=nats_url, ack_wait=1.0))
    try:
        await bus.publish(SUBJECT_PUSH, event(2), msg_id="orphan")
        # a worker that pulls the message and then "dies": it never acks nor beats
        psub = await bus.js.pull_subscribe(SUBJECT_PUSH, durable="takeover-iw_push", stream=bus.config.stream,
                                           config=Worker(bus, "takeover", SUBJECT_PUSH, PushEvent, None)
                                           .consumer_config())
        [first] = await psub.fetch(1, timeout=5)
        assert first.metadata.num_delivered == 1
        await psub.unsubscribe()
        seen: list[int] = []

        async def handler(msg, delivery):
            seen.append(delivery.attempt)

        worker = Worker(bus, "takeover", SUBJECT_PUSH, PushEvent, handler)
        task = asyncio.create_task(worker.run())
        await wait_for(lambda: _drained(bus, "takeover"), timeout=30, what="redelivery")
        worker.stop()
        await task
        assert seen == [2]
    finally:
        await bus.close()


async def _drained(bus: Bus, stage: str) -> bool:
    found = [b for b in await bus.backlogs() if b.consumer.startswith(stage + "-")]
    return bool(found) and found[0].pending == 0 and found[0].ack_pending == 0


async def test_running_stage_without_heartbeat_shows_stalled_then_is_taken_over(pg_dsn):
    pool = await connect_pool(pg_dsn, migrate=False)
    try:
        async with pool.acquire() as conn:
            await images.record_image(conn, digest="sha256:aa", registry="r", repository="a",
                                      media_type="m", platform="linux/amd64", config_digest="sha256:c",
                                      config=None, index_digest="", layers=[])
            await images.set_stage(conn, "sha256:aa", "inventory", "running")
            fresh = await images.stages_of(conn, "sha256:aa", stall_deadline=60)
            assert fresh["inventory"]["state"] == "running" and fresh["inventory"]["heartbeat_at"]
            await asyncio.sleep(0.3)
            stalled = await images.stages_of(conn, "sha256:aa", stall_deadline=0.2)
            assert stalled["inventory"]["state"] == "stalled"
            await images.heartbeat_stages(conn, ["sha256:aa"], "inventory")
            assert (await images.stages_of(conn, "sha256:aa", stall_deadline=0.2))["inventory"]["state"] == "running"
            # a redelivered message takes the stage over: one more attempt, fresh heartbeat
            await asyncio.sleep(0.3)
            await images.set_stage(conn, "sha256:aa", "inventory", "running")
            again = await images.stages_of(conn, "sha256:aa", stall_deadline=0.2)
            assert again["inventory"]["state"] == "running" and again["inventory"]["attempts"] == 2
            await images.set_stage(conn, "sha256:aa", "inventory", "done")
            await asyncio.sleep(0.3)
            done = await images.stages_of(conn, "sha256:aa", stall_deadline=0.2)
            assert done["inventory"]["state"] == "done" and "heartbeat_at" not in done["inventory"]
    finally:
        await pool.close()


