"""The series the api exports from PostgreSQL: fleet findings, advisory sources, outbox backlog.

Refreshed when ``/metrics`` is scraped, at most every ``metrics.refresh_seconds``
(0: on every scrape), so the gauges cost nothing between scrapes and one api
replica's answer is as fresh as the interval.
"""

from __future__ import annotations

import asyncio
import time

from imagewatch.runtime.runner import ServiceContext
from imagewatch.store import advisories, metrics as store


def store_refresher(ctx: ServiceContext):
    """A scrape hook refreshing the PostgreSQL-derived gauges of ``ctx.metrics``."""
    lock = asyncio.Lock()

    async def refresh() -> None:
        async with lock:
            if time.time() - ctx.metrics.store_refreshed < ctx.config.metrics.refresh_seconds:
                return
            async with ctx.pool.acquire(timeout=5) as conn:
                fleet, images = await store.fleet_findings(conn)
                sources = await advisories.source_status(conn)
                depth, age = await store.outbox_backlog(conn)
            ctx.metrics.store_gauges(fleet, images, sources, depth, age)

    return refresh
