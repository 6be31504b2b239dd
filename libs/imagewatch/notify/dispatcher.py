"""The dispatcher: delivers due outbox rows, retries with backoff, gives up after a limit.

Each round claims due rows (``FOR UPDATE SKIP LOCKED``) in a transaction held
while they are sent, posts them concurrently with ``delivery.deliver`` and
records each outcome before committing: a success is never sent again; a
transient failure is rescheduled (``Retry-After`` honoured) until
``max_attempts``; a permanent failure is kept, failed, with its error. If the
process dies mid-round the transaction rolls back and the rows are due again
(a receiver may then see a message twice: it carries an idempotency key).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import asyncpg

from imagewatch.runtime.logs import get_logger
from imagewatch.store import outbox
from imagewatch.notify.delivery import DeliveryResult, deliver, next_delay
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig

log = get_logger("notifier.dispatcher")


class Dispatcher:
    """Delivers outbox rows to the configured channels; ``run`` loops until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        channels: Mapping[str, ChannelConfig],
        session: aiohttp.ClientSession,
        *,
        max_attempts: int = 8,
        poll_interval: float = 1.0,
        retry_base: float = 2.0,
        retry_cap: float = 600.0,
        batch_size: int = 20,
        timeout: float = 15.0,
        metrics=None,
    ) -> None:
        self.pool = pool
        self.metrics = metrics
        self.channels = dict(channels)
        self.session = session
        self.max_attempts = max(1, max_attempts)
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due rows now (called after new rows are committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver due rows, then sleep until woken or ``poll_interval`` passes; forever."""
        while True:
            self._wake.clear()
            try:
                handled = await self.dispatch_once()
            except Exception as exc:  # noqa: BLE001 - the loop outlives a database outage
                log.warning("dispatch round failed", error=str(exc) or type(exc).__name__,
                            error_type=type(exc).__name__)
                handled = 0
            if handled >= self.batch_size:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass

    async def dispatch_once(self) -> int:
        """One round: claim, send and record up to ``batch_size`` due rows; returns how many."""
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                rows = await outbox.claim_due(conn, self.batch_size)
                if not rows:
                    return 0
                results = await asyncio.gather(*(self._send(row) for row in rows))
                for row, result in zip(rows, results):
                    await self._record(conn, row, result)
        return len(rows)

    async def _send(self, row: outbox.OutboxRow) -> DeliveryResult:
        channel = self.channels.get(row.channel)
        if channel is None:
            return DeliveryResult(outcome="permanent", error=f"notifier: channel {row.channel!r} is not configured")
        request = OutboundRequest(body=row.body, headers=row.headers, idempotency_key=row.idempotency_key)
        secret = channel.secret.reveal() if channel.kind == "webhook" and channel.secret else None
        return await deliver(self.session, channel.url.reveal(), request, signing_secret=secret,
                             timeout=self.timeout)

    async def _record(self, conn: asyncpg.Connection, row: outbox.OutboxRow, result: DeliveryResult) -> None:
        attempt = row.attempts + 1
        fields = {"outbox_id": row.id, "channel": row.channel, "kind": row.kind, "attempt": attempt,
                  "status": result.status}
        channel = self.channels.get(row.channel)
        outcome = "sent" if result.ok else "retried" if (
            result.outcome == "retry" and attempt < self.max_attempts) else "failed"
        if self.metrics is not None:
            self.metrics.notification(channel.kind if channel is not None else "unconfigured", outcome)
        if result.ok:
            await outbox.record_sent(conn, row.id, result.status)
            log.info("notification sent", **fields)
        elif result.outcome == "retry" and attempt < self.max_attempts:
            delay = next_delay(result, attempt, cap=self.retry_cap, base=self.retry_base)
            await outbox.record_retry(conn, row.id, delay, result.status, result.error)
            log.warning("notification will be retried", delay=round(delay, 3), error=result.error, **fields)
        else:
            error = result.error
            if result.outcome == "retry":
                error = f"notifier: gave up after {attempt} attempts: {error}"
            await outbox.record_failed(conn, row.id, result.status, error)
            log.error("notification failed", error=error, **fields)
