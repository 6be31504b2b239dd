"""The matcher service: ``iw.inventory`` and ``iw.vulndb`` in, ``iw.findings`` out."""

from __future__ import annotations

from imagewatch.runtime.bus import Worker
from imagewatch.config import Config
from imagewatch.messages import SUBJECT_INVENTORY, SUBJECT_VULNDB, InventoryReady, VulnDBChanged
from imagewatch.runtime.runner import ServiceContext, serve

from imagewatch.matcher.push import STAGE, push_handler
from imagewatch.matcher.rematch import vulndb_handler


async def setup(ctx: ServiceContext) -> list[Worker]:
    """One worker per subject: new inventories, and advisory changes."""
    concurrency = ctx.config.matcher.concurrency
    return [
        Worker(ctx.bus, STAGE, SUBJECT_INVENTORY, InventoryReady, push_handler(ctx), concurrency, ctx.metrics,
               on_dead=ctx.fail_stage),
        Worker(ctx.bus, STAGE, SUBJECT_VULNDB, VulnDBChanged, vulndb_handler(ctx), 1, ctx.metrics),
    ]


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("matcher", config, setup)
