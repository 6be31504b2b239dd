"""The bus: one JetStream stream, a durable pull consumer per (stage, subject).

Delivery is at least once. ``publish`` sets ``Nats-Msg-Id`` so that a retried
publish is deduplicated by the stream. ``Worker`` pulls, decodes with the one
Decoder of the subject, calls the handler and acks; a :class:`~.errors.Retry`
(or an unexpected exception) naks with a delay; a :class:`~.errors.Permanent`
error, or the ``max_deliver``-th failure, publishes a :class:`DeadLetter` to
``iw.dlq.<stage>`` and terminates the message. ``stop()`` lets in-flight work
finish; the caller then drains the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
import nats
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError

from imagewatch.config import BusConfig
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.runtime.logs import bind_message, get_logger
from imagewatch.messages import SUBJECT_DLQ_PREFIX, DeadLetter, decoder_for, encode

log = get_logger("bus")
_DLQ = msgspec.json.Encoder()


class Bus:
    """A NATS connection with the imagewatch stream ensured."""

    def __init__(self, nc: NATS, config: BusConfig) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.config = config

    @classmethod
    async def connect(cls, config: BusConfig, name: str = "imagewatch") -> "Bus":
        """Connect and create the stream idempotently."""
        auth = {"user": config.user, "password": config.password} if config.user else {}
        nc = await nats.connect(
            config.url, name=name, connect_timeout=5, max_reconnect_attempts=-1,
            reconnect_time_wait=1, allow_reconnect=True, **auth,
        )
        bus = cls(nc, config)
        await bus.ensure_stream()
        return bus

    async def ensure_stream(self) -> None:
        """Create or update the stream that holds every ``iw.>`` subject."""
        cfg = api.StreamConfig(
            name=self.config.stream,
            subjects=["iw.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=self.config.max_age_days * 86400,
            duplicate_window=self.config.duplicate_window,
        )
        try:
            await self.js.add_stream(cfg)
        except BadRequestError:
            await self.js.update_stream(cfg)

    async def publish(self, subject: str, message: msgspec.Struct, msg_id: str) -> int:
        """Publish and wait for the stream's ack; returns the stream sequence."""
        ack = await self.js.publish(
            subject, encode(message), timeout=5, headers={"Nats-Msg-Id": msg_id}
        )
        return ack.seq

    async def close(self) -> None:
        """Drain the connection (finishing pending publishes) and close it."""
        if self.nc.is_closed:
            return
        try:
            if self.nc.is_connected:
                await asyncio.wait_for(self.nc.drain(), 10)
                return
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            await self.nc.close()
        except Exception:  # noqa: BLE001 - the server is gone; nothing left to flush
            pass

    def durable_name(self, stage: str, subject: str) -> str:
        return f"{stage}-{subject.replace('.', '_')}"

    async def consumer_pending(self, stage: str, subject: str) -> int:
        """Messages waiting for a stage's consumer (for metrics and tests)."""
        pending, ack_pending, _ = await self.consumer_backlog(stage, subject)
        return pending + ack_pending

    async def consumer_backlog(self, stage: str, subject: str) -> tuple[int, int, int]:
        """A stage consumer's (pending, ack-pending, redelivered) message counts; zeros before it exists."""
        try:
            info = await self.js.consumer_info(self.config.stream, self.durable_name(stage, subject))
        except NotFoundError:
            return 0, 0, 0
        return info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0

    async def dead_letters(self, limit: int = 1000) -> list[tuple[int, DeadLetter]]:
        """Dead-lettered messages still in the stream, oldest first, with their sequence."""
        out: list[tuple[int, DeadLetter]] = []
        sub = await self.js.subscribe(
            SUBJECT_DLQ_PREFIX + ">", stream=self.config.stream, ordered_consumer=True,
        )
        try:
            while len(out) < limit:
                try:
                    msg = await sub.next_msg(timeout=0.3)
                except (asyncio.TimeoutError, nats.errors.TimeoutError):
                    break
                out.append((msg.metadata.sequence.stream, decoder_for(DeadLetter).decode(msg.data)))
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        return out


@dataclass
class Delivery:
    """What a handler knows about the message it is handling."""

    subject: str
    msg_id: str
    attempt: int


Handler = Callable[[msgspec.Struct, Delivery], Awaitable[None]]
DeadHook = Callable[[msgspec.Struct, str], Awaitable[None]]


class Worker:
    """Consumes one subject for one stage with a shared durable pull consumer.

    ``on_dead(message, error)``, when given, runs once a decoded message is
    dead-lettered (for example to mark the image's stage failed with the error).
    """

    def __init__(self, bus: Bus, stage: str, subject: str, kind: type[msgspec.Struct],
                 handler: Handler, concurrency: int = 1, metrics=None,
                 on_dead: DeadHook | None = None) -> None:
        self.bus = bus
        self.stage = stage
        self.subject = subject
        self.decoder = decoder_for(kind)
        self.handler = handler
        self.concurrency = max(1, concurrency)
        self.metrics = metrics
        self.on_dead = on_dead
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()
        self._sem = asyncio.Semaphore(self.concurrency)

    async def run(self) -> None:
        """Pull and handle until ``stop()``; in-flight messages finish first."""
        cfg = self.bus.config
        durable = self.bus.durable_name(self.stage, self.subject)
        consumer = api.ConsumerConfig(
            durable_name=durable, ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=cfg.ack_wait, max_deliver=-1, filter_subject=self.subject,
            max_ack_pending=max(64, self.concurrency * 4),
        )
        try:
            await self.bus.js.add_consumer(cfg.stream, consumer)
        except BadRequestError:
            pass  # exists with the same name; shared by every replica
        psub = await self.bus.js.pull_subscribe_bind(durable=durable, stream=cfg.stream)
        try:
            while not self._stopping.is_set():
                await self._sem.acquire()
                self._sem.release()
                free = self._sem._value  # noqa: SLF001 - free slots right now
                try:
                    msgs = await psub.fetch(batch=max(1, free), timeout=1)
                except (asyncio.TimeoutError, nats.errors.TimeoutError):
                    continue
                except nats.errors.ConnectionClosedError:
                    break
                for msg in msgs:
                    await self._sem.acquire()
                    task = asyncio.create_task(self._handle(msg))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            try:
                await psub.unsubscribe()
            except Exception:  # noqa: BLE001
                pass

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        self._sem.release()

    def stop(self) -> None:
        """Stop pulling; messages being handled finish."""
        self._stopping.set()

    async def _handle(self, msg: Msg) -> None:
        attempt = msg.metadata.num_delivered
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", f"seq-{msg.metadata.sequence.stream}")
        bind_message(stage=self.stage, msg_id=msg_id, subject=self.subject, attempt=attempt)
        started = time.perf_counter()
        outcome = "ok"
        message = None
        if self.metrics is not None:
            self.metrics.in_flight.labels(self.stage, self.subject).inc()
        try:
            if attempt > self.bus.config.max_deliver:
                raise Permanent(f"{self.stage}: gave up after {attempt - 1} deliveries")
            try:
                message = self.decoder.decode(msg.data)
            except msgspec.DecodeError as exc:
                raise Permanent(f"{self.stage}: undecodable message: {exc}") from None
            digest = getattr(message, "image_digest", "") or getattr(message, "digest", "")
            if digest:
                structlog.contextvars.bind_contextvars(image_digest=digest)
            await self.handler(message, Delivery(self.subject, msg_id, attempt))
            await msg.ack()
        except Permanent as exc:
            outcome = "dead"
            await self._dead_letter(msg, message, str(exc), attempt)
        except Exception as exc:  # noqa: BLE001 - transient unless proven permanent
            delay = exc.delay if isinstance(exc, Retry) and exc.delay is not None else None
            reason = str(exc) or type(exc).__name__
            if attempt >= self.bus.config.max_deliver:
                outcome = "dead"
                await self._dead_letter(msg, message, reason, attempt)
            else:
                outcome = "retry"
                log.warning("handler failed, will retry", error=reason, error_type=type(exc).__name__)
                await msg.nak(delay=delay if delay is not None else self.bus.config.nak_delay * attempt)
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.in_flight.labels(self.stage, self.subject).dec()
                self.metrics.observe(self.stage, self.subject, outcome, elapsed)
            log.info("handled", outcome=outcome, seconds=round(elapsed, 4))

    async def _dead_letter(self, msg: Msg, message: msgspec.Struct | None, error: str, attempt: int) -> None:
        log.error("dead-lettered", error=error)
        if message is not None and self.on_dead is not None:
            try:
                await self.on_dead(message, error)
            except Exception as exc:  # noqa: BLE001 - the dead letter still goes out
                log.error("on_dead hook failed", error=str(exc) or type(exc).__name__)
        letter = DeadLetter(
            stage=self.stage, subject=msg.subject, data=msg.data, error=error,
            deliveries=attempt, failed_at=time.time(),
            msg_id=(msg.headers or {}).get("Nats-Msg-Id", ""),
        )
        seq = msg.metadata.sequence.stream
        await self.bus.publish(SUBJECT_DLQ_PREFIX + self.stage, letter, f"dlq-{self.stage}-{seq}")
        await msg.term()
