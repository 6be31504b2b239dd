"""The notifier service shell: two workers and the dispatcher."""

from __future__ import annotations

import asyncio

import aiohttp

from imagewatch.runtime.bus import Worker
from imagewatch.config import Config
from imagewatch.messages import SUBJECT_FINDINGS, SUBJECT_SECRETS, FindingsReady, SecretsReady
from imagewatch.notify.dispatcher import Dispatcher
from imagewatch.runtime.runner import ServiceContext, serve

from imagewatch.notify.events import STAGE, EventHandler
from imagewatch.notify.settings import load_settings


async def setup(ctx: ServiceContext) -> list[Worker]:
    """Validate the configuration, start the dispatcher, consume ``iw.findings`` and ``iw.secrets``."""
    settings = load_settings(ctx.config)
    cfg = ctx.config.notifier
    session = aiohttp.ClientSession()
    ctx.cleanup.append(session.close)
    dispatcher = Dispatcher(
        ctx.pool, {c.name: c for c in settings.notify.channels}, session,
        max_attempts=cfg.max_attempts, poll_interval=cfg.poll_interval, retry_base=cfg.retry_base,
        retry_cap=cfg.retry_cap, batch_size=cfg.batch_size, timeout=cfg.timeout, metrics=ctx.metrics,
    )
    ctx.background.append(asyncio.create_task(dispatcher.run()))
    handler = EventHandler(ctx.pool, settings, dispatcher.wake)
    return [
        Worker(ctx.bus, STAGE, SUBJECT_FINDINGS, FindingsReady, handler.findings, metrics=ctx.metrics,
               on_dead=ctx.fail_stage),
        Worker(ctx.bus, STAGE, SUBJECT_SECRETS, SecretsReady, handler.secrets, metrics=ctx.metrics,
               on_dead=ctx.fail_stage),
    ]


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("notifier", config, setup)
