"""The service runner: configure → connect → consume → stop cleanly.

A service is a ``setup(ctx) -> list[Worker]`` function. The runner connects
NATS and PostgreSQL, starts the workers, serves ``/healthz``, ``/readyz`` (NATS
and PostgreSQL reachable) and ``/metrics``, and on SIGTERM/SIGINT stops
pulling, lets in-flight messages finish, then drains the connection.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiohttp import web

from imagewatch.runtime.blobstore import BlobStore, open_blob_store
from imagewatch.runtime.bus import Bus, Worker
from imagewatch.config import Config, data_dir
from imagewatch.runtime.logs import configure, get_logger
from imagewatch.runtime.metrics import Metrics
from imagewatch.store import images
from imagewatch.store.db import connect_pool, ping


@dataclass
class ServiceContext:
    """What a service's setup receives: config, connections and its metrics."""

    name: str
    config: Config
    bus: Bus
    pool: asyncpg.Pool
    blobs: BlobStore
    metrics: Metrics
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    background: list[asyncio.Task] = field(default_factory=list)
    cleanup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def tmp_dir(self) -> Path:
        """This service's scratch directory under the data dir, created when missing."""
        path = data_dir(self.config) / "tmp" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def blob_fetcher(self, digest: str) -> Callable[[Path], Awaitable[None]]:
        """A function writing blob ``digest`` (verified) from the blob store to a path."""
        async def fetch(path: Path) -> None:
            await self.blobs.get_file(digest, path)
        return fetch

    async def fail_stage(self, message, error: str) -> None:
        """Mark the stage of ``message``'s image failed with ``error`` (a Worker ``on_dead`` hook)."""
        async with self.pool.acquire() as conn:
            await images.set_stage(conn, message.image_digest, self.name, "failed", error)


def health_routes(ctx: ServiceContext) -> list[web.RouteDef]:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a service."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": ctx.name})

    async def readyz(_: web.Request) -> web.Response:
        checks = {"nats": ctx.bus.nc.is_connected}
        try:
            async with ctx.pool.acquire(timeout=2) as conn:
                await ping(conn)
            checks["postgres"] = True
        except Exception:  # noqa: BLE001 - readiness reports, never raises
            checks["postgres"] = False
        ok = all(checks.values())
        return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=ctx.metrics.render(), content_type="text/plain", charset="utf-8")

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]


async def _watch_pending(ctx: ServiceContext, workers: list[Worker]) -> None:
    while not ctx.stopping.is_set():
        for w in workers:
            try:
                n = await ctx.bus.consumer_pending(w.stage, w.subject)
                ctx.metrics.pending.labels(ctx.name, w.stage, w.subject).set(n)
            except Exception:  # noqa: BLE001 - metrics are best effort
                pass
        try:
            await asyncio.wait_for(ctx.stopping.wait(), 5)
        except asyncio.TimeoutError:
            pass


async def connect(name: str, config: Config) -> ServiceContext:
    """Connect NATS, PostgreSQL (migrating) and the blob store."""
    bus = await Bus.connect(config.bus, name=f"imagewatch-{name}")
    pool = await connect_pool(config.database.url, config.database.min_pool, config.database.max_pool)
    blobs = open_blob_store(config.blobs, js=bus.js, data_dir=data_dir(config))
    return ServiceContext(name, config, bus, pool, blobs, Metrics(name))


class RunningService:
    """A started service: its context, workers and tasks; ``stop()`` shuts it down cleanly."""

    def __init__(self, ctx: ServiceContext, workers: list[Worker], http: web.AppRunner | None) -> None:
        self.ctx = ctx
        self.workers = workers
        self.http = http
        self.tasks = [asyncio.create_task(w.run()) for w in workers]
        if workers:
            ctx.background.append(asyncio.create_task(_watch_pending(ctx, workers)))

    async def stop(self) -> None:
        """Stop pulling, let in-flight messages finish, then drain and close."""
        self.ctx.stopping.set()
        for w in self.workers:
            w.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for t in self.ctx.background:
            t.cancel()
        await asyncio.gather(*self.ctx.background, return_exceptions=True)
        for fn in self.ctx.cleanup:
            await fn()
        if self.http:
            await self.http.cleanup()
        await self.ctx.bus.close()
        await self.ctx.pool.close()


async def start_service(name: str, config: Config,
                        setup: Callable[[ServiceContext], Awaitable[list[Worker]]]) -> RunningService:
    """Connect, set the service up and start its workers (and health port when configured)."""
    data_dir(config)
    ctx = await connect(name, config)
    workers = await setup(ctx)
    http = None
    if config.metrics_port:
        app = web.Application()
        app.add_routes(health_routes(ctx))
        http = web.AppRunner(app, access_log=None)
        await http.setup()
        await web.TCPSite(http, "0.0.0.0", config.metrics_port).start()
    get_logger(name).info("service started", workers=[f"{w.stage}:{w.subject}" for w in workers])
    return RunningService(ctx, workers, http)


async def serve(name: str, config: Config,
                setup: Callable[[ServiceContext], Awaitable[list[Worker]]]) -> None:
    """Run one service until SIGTERM/SIGINT."""
    configure(config.log.format, config.log.level)
    log = get_logger(name)
    service = await start_service(name, config, setup)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.ctx.stopping.set)
    await service.ctx.stopping.wait()
    log.info("stopping: finishing in-flight work")
    await service.stop()
    log.info("stopped")
