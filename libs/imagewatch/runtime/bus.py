"""The bus: one JetStream stream, a durable pull consumer per (stage, subject).

Delivery is at least once. ``publish`` sets ``Nats-Msg-Id`` so that a retried
publish is deduplicated by the stream. ``Worker`` pulls, decodes with the one
Decoder of the subject, calls the handler and acks; a :class:`~.errors.Retry`
(or an unexpected exception) naks with a delay; a :class:`~.errors.Permanent`
error, or the ``max_deliver``-th failure, publishes a :class:`DeadLetter` to
``iw.dlq.<stage>`` and terminates the message. ``stop()`` lets in-flight work
finish; the caller then drains the connection.

While a handler runs, the worker sends ``in_progress`` heartbeats every
``ack_wait / 3`` (``bus.heartbeat``), so ``ack_wait`` can be short: a dead
worker's messages come back within ``ack_wait`` and a slow live one's never
do. Each heartbeat also runs the worker's ``on_heartbeat`` hook (the runner's
stamps the image's stage row, from which the API tells ``stalled``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
import nats
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError, NoStreamResponseError, NotFoundError, ServiceUnavailableError

from imagewatch.config import BusConfig
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.runtime.logs import bind_message, get_logger
from imagewatch.runtime.natsservers import host_port, redacted, server_list
from imagewatch.runtime.replicas import wait_current
from imagewatch.messages import SUBJECT_DLQ_PREFIX, DeadLetter, decoder_for, encode

log = get_logger("bus")

PUBLISH_RETRY_SECONDS = 10.0
"""How long a publish is retried while the stream has no leader (a cluster electing one)."""
_NO_LEADER = (NoStreamResponseError, nats.errors.NoRespondersError, nats.errors.TimeoutError,
              ServiceUnavailableError)
_DLQ = msgspec.json.Encoder()


class Bus:
    """A NATS connection with the imagewatch stream ensured."""

    def __init__(self, nc: NATS, config: BusConfig) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.config = config
        self._closing: list[bool] = []

    @classmethod
    async def connect(cls, config: BusConfig, name: str = "imagewatch") -> "Bus":
        """Connect to any of the configured servers and create (or update) the stream.

        ``config.url`` may list every node of a cluster, comma-separated; the
        client fails over between them (and the nodes the cluster announces).
        Once connected it reconnects forever. Logs name servers as ``host:port``
        only, never with a password. Credentials (user/password or an nkey
        seed file) are the same for every node.
        """

        closing: list[bool] = []
        servers = server_list(config.url)
        holder: list[NATS] = []

        def current() -> str:
            return host_port(holder[0].connected_url) if holder else ""

        async def disconnected() -> None:
            if not closing:
                log.warning("NATS disconnected; reconnecting", servers=redacted(config.url))

        async def reconnected() -> None:
            log.info("NATS reconnected", server=current())

        async def error(exc: Exception) -> None:
            log.warning("NATS error", error=str(exc) or type(exc).__name__)

        auth: dict = {"user": config.user, "password": config.password} if config.user else {}
        if config.nkey_seed_file:
            auth = {"nkeys_seed": config.nkey_seed_file}
        nc = await nats.connect(
            servers, name=name, connect_timeout=5, max_reconnect_attempts=-1,
            reconnect_time_wait=1, allow_reconnect=True, disconnected_cb=disconnected,
            reconnected_cb=reconnected, error_cb=error, **auth,
        )
        holder.append(nc)
        bus = cls(nc, config)
        bus._closing = closing
        await bus.ensure_stream()
        return bus

    def stream_config(self) -> api.StreamConfig:
        """The configuration of the stream that holds every ``iw.>`` subject."""
        return api.StreamConfig(
            name=self.config.stream,
            subjects=["iw.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=self.config.max_age_days * 86400,
            duplicate_window=self.config.duplicate_window,
            num_replicas=self.config.replicas,
        )

    async def ensure_stream(self) -> None:
        """Create the stream, or update an existing one to the configuration (replicas included)."""
        cfg = self.stream_config()
        try:
            await self.js.add_stream(cfg)
        except BadRequestError:
            before = (await self.js.stream_info(cfg.name)).config.num_replicas or 1
            await self.js.update_stream(cfg)
            if before != cfg.num_replicas:
                log.info("stream replicas changed", stream=cfg.name, before=before, after=cfg.num_replicas)
                await wait_current(self.js, cfg.name, cfg.num_replicas or 1)

    async def publish(self, subject: str, message: msgspec.Struct, msg_id: str) -> int:
        """Publish and wait for the stream's ack; returns the stream sequence.

        While connected, a stream that does not answer (no leader for a moment:
        a cluster node was lost, the stream was just created or re-replicated)
        is retried for up to ``PUBLISH_RETRY_SECONDS``; ``Nats-Msg-Id`` makes a
        retry of a publish that did land a no-op. Disconnected, it fails at once.
        """
        data = encode(message)
        headers = {"Nats-Msg-Id": msg_id}
        deadline = time.monotonic() + PUBLISH_RETRY_SECONDS
        delay = 0.1
        while True:
            try:
                ack = await self.js.publish(subject, data, timeout=5, headers=headers)
                return ack.seq
            except _NO_LEADER as exc:
                if not self.nc.is_connected or time.monotonic() + delay > deadline:
                    raise
                log.info("stream did not answer; publishing again", subject=subject,
                         error=type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def close(self) -> None:
        """Drain the connection (finishing pending publishes) and close it."""
        self._closing.append(True)
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

    async def backlogs(self) -> list["Backlog"]:
        """The backlog of every consumer of the stream (for ``/metrics``)."""
        infos = await self.js.consumers_info(self.config.stream)
        return [Backlog(i.name, i.num_pending or 0, i.num_ack_pending or 0, i.num_redelivered or 0,
                        i.num_waiting or 0) for i in infos]

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
class Backlog:
    """One consumer's backlog: not yet delivered, delivered and not acked, redelivered;
    ``waiting``: pull requests its clients have open (idle workers)."""

    consumer: str
    pending: int
    ack_pending: int
    redelivered: int
    waiting: int = 0


@dataclass
class Delivery:
    """What a handler knows about the message it is handling.

    ``images`` holds the digests of images whose stage row this handling
    keeps alive with heartbeats, besides the message's own ``image_digest``
    (the fetcher adds the platform images a push resolves to).
    """

    subject: str
    msg_id: str
    attempt: int
    images: set[str] = field(default_factory=set)


Handler = Callable[[msgspec.Struct, Delivery], Awaitable[None]]
DeadHook = Callable[[msgspec.Struct, str], Awaitable[None]]
HeartbeatHook = Callable[[str, list[str]], Awaitable[None]]


class Worker:
    """Consumes one subject for one stage with a shared durable pull consumer.

    ``on_dead(message, error)``, when given, runs once a decoded message is
    dead-lettered (for example to mark the image's stage failed with the error).
    ``on_heartbeat(stage, digests)``, when given, runs with every heartbeat of
    a message about images (the runner sets it to stamp their stage rows).
    """

    def __init__(self, bus: Bus, stage: str, subject: str, kind: type[msgspec.Struct],
                 handler: Handler, concurrency: int = 1, metrics=None,
                 on_dead: DeadHook | None = None, on_heartbeat: HeartbeatHook | None = None) -> None:
        self.bus = bus
        self.stage = stage
        self.subject = subject
        self.decoder = decoder_for(kind)
        self.handler = handler
        self.concurrency = max(1, concurrency)
        self.metrics = metrics
        self.on_dead = on_dead
        self.on_heartbeat = on_heartbeat
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()
        self._sem = asyncio.Semaphore(self.concurrency)

    def consumer_config(self) -> api.ConsumerConfig:
        """The durable pull consumer this worker shares with its replicas."""
        cfg = self.bus.config
        return api.ConsumerConfig(
            durable_name=self.bus.durable_name(self.stage, self.subject), ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=cfg.ack_wait, max_deliver=-1, filter_subject=self.subject,
            max_ack_pending=max(64, self.concurrency * 4), num_replicas=cfg.replicas,
        )

    async def _ensure_consumer(self) -> None:
        """Create the durable consumer, or update it in place (ack wait, replicas; acks are kept).

        JetStream creates or updates with one request. Just after its stream's
        replica count changed it may refuse for a moment, hence the retries; an
        existing consumer keeps working with its old settings meanwhile.
        """
        consumer = self.consumer_config()
        error: Exception | None = None
        for attempt in range(8):
            try:
                await self.bus.js.add_consumer(self.bus.config.stream, consumer)
                return
            except BadRequestError as exc:
                error = exc
                await asyncio.sleep(0.25 * (attempt + 1))
        log.warning("consumer not created or updated", consumer=consumer.durable_name,
                    error=getattr(error, "description", None) or str(error))

    async def _subscribe(self):
        await self._ensure_consumer()
        return await self.bus.js.pull_subscribe_bind(
            durable=self.bus.durable_name(self.stage, self.subject), stream=self.bus.config.stream)

    async def run(self) -> None:
        """Pull and handle until ``stop()``; in-flight messages finish first.

        A lost NATS connection (or a server that forgot the consumer) does not
        end the loop: it waits, subscribes again and goes on pulling.
        """
        psub = None
        backoff = 0.5
        try:
            while not self._stopping.is_set():
                if psub is None:
                    try:
                        psub = await self._subscribe()
                        backoff = 0.5
                    except Exception as exc:  # noqa: BLE001 - NATS away; retry below
                        if self.bus.nc.is_closed:
                            break
                        log.warning("cannot subscribe; retrying", stage=self.stage, subject=self.subject,
                                    error=str(exc) or type(exc).__name__, retry_in=backoff)
                        await self._pause(backoff)
                        backoff = min(backoff * 2, 10)
                        continue
                await self._sem.acquire()
                self._sem.release()
                free = self._sem._value  # noqa: SLF001 - free slots right now
                try:
                    msgs = await psub.fetch(batch=max(1, free), timeout=1)
                except (asyncio.TimeoutError, nats.errors.TimeoutError):
                    continue
                except nats.errors.ConnectionClosedError:
                    break
                except Exception as exc:  # noqa: BLE001 - disconnected, consumer gone, ...
                    if self.bus.nc.is_closed:
                        break
                    log.warning("pull failed; subscribing again", stage=self.stage, subject=self.subject,
                                error=str(exc) or type(exc).__name__)
                    await self._drop(psub)
                    psub = None
                    await self._pause(1)
                    continue
                for msg in msgs:
                    await self._sem.acquire()
                    task = asyncio.create_task(self._handle(msg))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            if psub is not None:
                await self._drop(psub)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    @staticmethod
    async def _drop(psub) -> None:
        try:
            await psub.unsubscribe()
        except Exception:  # noqa: BLE001 - the subscription is gone either way
            pass

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        self._sem.release()

    @property
    def in_flight(self) -> int:
        """Messages this worker is handling right now."""
        return len(self._inflight)

    def stop(self) -> None:
        """Stop pulling; messages being handled finish."""
        self._stopping.set()

    async def _heartbeat(self, msg: Msg, delivery: Delivery, digest: str) -> None:
        """Tell JetStream (and the stage rows) every ``heartbeat_interval`` that the message is alive."""
        interval = self.bus.config.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except Exception as exc:  # noqa: BLE001 - NATS away: the message may come back
                log.warning("heartbeat not sent", error=str(exc) or type(exc).__name__)
            digests = sorted(({digest} if digest else set()) | delivery.images)
            if digests and self.on_heartbeat is not None:
                try:
                    await self.on_heartbeat(self.stage, digests)
                except Exception as exc:  # noqa: BLE001 - PostgreSQL away: the API may show stalled
                    log.warning("stage heartbeat not stored", error=str(exc) or type(exc).__name__)

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
            try:
                message = self.decoder.decode(msg.data)
            except msgspec.DecodeError as exc:
                raise Permanent(f"{self.stage}: undecodable message: {exc}") from None
            if attempt > self.bus.config.max_deliver:
                # delivered again without this worker seeing it fail: a crash while handling it
                raise Permanent(f"{self.stage}: gave up after {attempt - 1} deliveries "
                                "(the handling process died or lost the message each time)")
            digest = getattr(message, "image_digest", "") or getattr(message, "digest", "")
            if digest:
                structlog.contextvars.bind_contextvars(image_digest=digest)
            delivery = Delivery(self.subject, msg_id, attempt)
            beat = asyncio.create_task(
                self._heartbeat(msg, delivery, getattr(message, "image_digest", "") or ""))
            try:
                await self.handler(message, delivery)
            finally:
                beat.cancel()
        except Permanent as exc:
            outcome = "dead"
            await self._settle(self._dead_letter(msg, message, str(exc), attempt))
        except Exception as exc:  # noqa: BLE001 - transient unless proven permanent
            delay = exc.delay if isinstance(exc, Retry) and exc.delay is not None else None
            reason = str(exc) or type(exc).__name__
            if attempt >= self.bus.config.max_deliver:
                outcome = "dead"
                await self._settle(self._dead_letter(msg, message, reason, attempt))
            else:
                outcome = "retry"
                log.warning("handler failed, will retry", error=reason, error_type=type(exc).__name__)
                await self._settle(
                    msg.nak(delay=delay if delay is not None else self.bus.config.nak_delay * attempt))
        else:
            await self._settle(msg.ack())
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.in_flight.labels(self.stage, self.subject).dec()
                self.metrics.observe(self.stage, self.subject, outcome, elapsed)
            log.info("handled", outcome=outcome, seconds=round(elapsed, 4))

    async def _settle(self, action: Awaitable[None]) -> None:
        """Run a nak / dead-letter; when NATS is away the message simply comes back after ack_wait."""
        try:
            await action
        except Exception as exc:  # noqa: BLE001 - redelivery covers it
            log.warning("could not settle the message; it will be redelivered",
                        error=str(exc) or type(exc).__name__)

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
