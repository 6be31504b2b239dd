"""The bus: dedup by Nats-Msg-Id, retry then dead-letter, permanent errors, clean shutdown."""

from __future__ import annotations

import asyncio

from imagewatch.runtime.bus import Bus, Worker
from imagewatch.config import BusConfig
from imagewatch.runtime.errors import Permanent
from imagewatch.messages import SUBJECT_PUSH, PushEvent


def event(n: int) -> PushEvent:
    return PushEvent(event_id=f"e{n}", source="test", registry="r", repository="a", tag=str(n))


async def test_duplicate_publish_is_deduplicated(nats_url):
    bus = await Bus.connect(BusConfig(url=nats_url))
    try:
        first = await bus.publish(SUBJECT_PUSH, event(1), msg_id="same")
        again = await bus.publish(SUBJECT_PUSH, event(1), msg_id="same")
        assert first == again
        seen: list[str] = []

        async def handler(msg, delivery):
            seen.append(msg.tag)

        worker = Worker(bus, "t", SUBJECT_PUSH, PushEvent, handler)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(1.5)
        worker.stop()
        await task
        assert seen == ["1"]
    finally:
        await bus.close()


async def test_failures_retry_then_dead_letter_with_error(nats_url):
    bus = await Bus.connect(BusConfig(url=nats_url, max_deliver=3, nak_delay=0.05))
    try:
        attempts: list[int] = []

        async def flaky(msg, delivery):
            attempts.append(delivery.attempt)
            raise RuntimeError("layer store unreachable")

        async def permanent(msg, delivery):
            raise Permanent("manifest unknown")

        await bus.publish(SUBJECT_PUSH, event(1), msg_id="m1")
        worker = Worker(bus, "flaky", SUBJECT_PUSH, PushEvent, flaky)
        task = asyncio.create_task(worker.run())
        for _ in range(100):
            if len(await bus.dead_letters()) == 1:
                break
            await asyncio.sleep(0.1)
        worker.stop()
        await task
        assert attempts == [1, 2, 3]
        [(seq, letter)] = await bus.dead_letters()
        assert letter.stage == "flaky" and letter.error == "layer store unreachable"
        assert letter.deliveries == 3 and letter.msg_id == "m1" and b'"tag":"1"' in letter.data

        other = Worker(bus, "strict", SUBJECT_PUSH, PushEvent, permanent)
        task = asyncio.create_task(other.run())
        for _ in range(100):
            if len(await bus.dead_letters()) == 2:
                break
            await asyncio.sleep(0.1)
        other.stop()
        await task
        letters = [letter for _, letter in await bus.dead_letters()]
        assert letters[1].stage == "strict" and letters[1].deliveries == 1
        assert letters[1].error == "manifest unknown"
    finally:
        await bus.close()


async def test_stop_lets_in_flight_work_finish(nats_url):
    bus = await Bus.connect(BusConfig(url=nats_url))
    try:
        started, finished = asyncio.Event(), []

        async def slow(msg, delivery):
            started.set()
            await asyncio.sleep(0.5)
            finished.append(msg.tag)

        await bus.publish(SUBJECT_PUSH, event(7), msg_id="slow")
        worker = Worker(bus, "slow", SUBJECT_PUSH, PushEvent, slow)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(started.wait(), 10)
        worker.stop()
        await task
        assert finished == ["7"]
        assert await bus.consumer_pending("slow", SUBJECT_PUSH) == 0
    finally:
        await bus.close()


async def test_an_existing_consumer_is_updated_in_place_to_the_new_ack_wait(nats_url):
    async def handler(msg, delivery):
        return None

    created = None
    for ack_wait in (12.0, 3.0):
        bus = await Bus.connect(BusConfig(url=nats_url, ack_wait=ack_wait))
        try:
            worker = Worker(bus, "t", SUBJECT_PUSH, PushEvent, handler)
            await worker._ensure_consumer()
            info = await bus.js.consumer_info(bus.config.stream, bus.durable_name("t", SUBJECT_PUSH))
            created = created or info.created
            assert info.config.ack_wait == ack_wait and info.created == created  # not recreated
        finally:
            await bus.close()
