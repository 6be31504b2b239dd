"""The api service: registry webhooks in, queries out."""

from __future__ import annotations

from aiohttp import web

from imagewatch.config import Config
from imagewatch.runtime.runner import ServiceContext, serve

from imagewatch_services.api.app import build_app


async def setup(ctx: ServiceContext) -> list:
    """Start the HTTP server; the api consumes no subject but reports every consumer's backlog."""
    ctx.watch_all_backlogs = True
    runner = web.AppRunner(build_app(ctx), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, ctx.config.api.host, ctx.config.api.port).start()
    ctx.cleanup.append(runner.cleanup)
    return []


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("api", config, setup)
