"""The service runner: configure → connect → consume → stop cleanly.

A service is a ``setup(ctx) -> list[Worker]`` function. The runner connects
NATS and PostgreSQL, starts the workers, serves ``/healthz``, ``/readyz`` (NATS
and PostgreSQL reachable) and ``/metrics``, and on SIGTERM/SIGINT stops
pulling, lets in-flight messages finish, then drains the connection. While it
runs, the process announces itself in the presence bucket (``runtime/presence``).

A service outlives its servers: NATS reconnects forever (workers pull again
once it is back) and the pool opens fresh connections once PostgreSQL answers;
meanwhile ``/readyz`` answers 503 with the failed check. Each worker's
heartbeats stamp the stage rows of the images it handles.
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
from imagewatch.runtime.httpmetrics import observe_requests
from imagewatch.runtime.identity import replica
from imagewatch.runtime.logs import configure, get_logger
from imagewatch.runtime.metrics import Metrics
from imagewatch.runtime.presence import Announcer
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
    scrape_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

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

    watch_all_backlogs: bool = False
    """Report the backlog of every consumer of the stream, not only this service's (the api)."""

    async def heartbeat_stages(self, stage: str, digests: list[str]) -> None:
        """Stamp a heartbeat on ``stage`` of the images being handled (a Worker ``on_heartbeat`` hook)."""
        async with self.pool.acquire(timeout=5) as conn:
            await images.heartbeat_stages(conn, digests, stage)

    async def fail_stage(self, message, error: str) -> None:
        """Mark the stage of ``message``'s image failed with ``error`` (a Worker ``on_dead`` hook)."""
        async with self.pool.acquire() as conn:
            await images.set_stage(conn, message.image_digest, self.name, "failed", error)


def health_routes(ctx: ServiceContext) -> list[web.RouteDef]:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a service."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": ctx.name, "replica": replica()})

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
        for hook in ctx.scrape_hooks:
            try:
                await hook()
            except Exception as exc:  # noqa: BLE001 - a scrape still answers with what it has
                get_logger(ctx.name).warning("metrics refresh failed", error=str(exc) or type(exc).__name__)
        return web.Response(body=ctx.metrics.render(), content_type="text/plain", charset="utf-8")

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]


async def _watch_backlog(ctx: ServiceContext, workers: list[Worker]) -> None:
    """Every 5 s: each consumer's backlog into ``/metrics``; a warning when one passes ``bus.backlog_warn``."""
    log = get_logger(ctx.name)
    own = {ctx.bus.durable_name(w.stage, w.subject): w for w in workers}
    over: set[str] = set()
    while not ctx.stopping.is_set():
        try:
            backlogs = await ctx.bus.backlogs()
        except Exception:  # noqa: BLE001 - metrics are best effort (NATS may be away)
            backlogs = None
        listed = {b.consumer for b in backlogs or ()}
        for name, worker in own.items():
            if backlogs is not None and name not in listed:  # not created yet: nothing waits for it
                ctx.metrics.backlog(worker.stage, worker.subject, 0, 0, 0)
        for b in backlogs or ():
            worker = own.get(b.consumer)
            if worker is None and not ctx.watch_all_backlogs:
                continue
            stage, _, subject = b.consumer.partition("-")
            ctx.metrics.backlog(stage, subject.replace("_", "."), b.pending, b.ack_pending, b.redelivered)
            if b.pending + b.ack_pending > ctx.config.bus.backlog_warn:
                if b.consumer not in over:
                    log.warning("backlog above bound", consumer=b.consumer, pending=b.pending,
                                ack_pending=b.ack_pending, bound=ctx.config.bus.backlog_warn)
                over.add(b.consumer)
            elif b.consumer in over:
                over.discard(b.consumer)
                log.info("backlog back under bound", consumer=b.consumer)
        try:
            await asyncio.wait_for(ctx.stopping.wait(), 5)
        except asyncio.TimeoutError:
            pass


async def connect(name: str, config: Config) -> ServiceContext:
    """Connect NATS, PostgreSQL (migrating) and the blob store."""
    bus = await Bus.connect(config.bus, name=f"imagewatch-{replica() or name}")
    pool = await connect_pool(config.database.url, config.database.min_pool, config.database.max_pool)
    blobs = open_blob_store(config.blobs, js=bus.js, data_dir=data_dir(config), replicas=config.bus.replicas)
    await blobs.prepare()
    return ServiceContext(name, config, bus, pool, blobs, Metrics(name))


class RunningService:
    """A started service: its context, workers and tasks; ``stop()`` shuts it down cleanly."""

    def __init__(self, ctx: ServiceContext, workers: list[Worker], http: web.AppRunner | None) -> None:
        self.ctx = ctx
        self.workers = workers
        self.http = http
        for w in workers:
            if w.on_heartbeat is None:
                w.on_heartbeat = ctx.heartbeat_stages
        self.tasks = [asyncio.create_task(w.run()) for w in workers]
        bus = ctx.config.bus
        self.presence = Announcer(ctx.bus.js, ctx.name, bus.presence_interval, bus.replicas,
                                  in_flight=lambda: sum(w.in_flight for w in workers))
        self.presence.start()
        if workers or ctx.watch_all_backlogs:
            ctx.background.append(asyncio.create_task(_watch_backlog(ctx, workers)))

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
        await self.presence.stop()
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
        from imagewatch.config import read_token, webhook_token
        from imagewatch.runtime.httpauth import is_loopback, read_guard

        guard = [] if is_loopback(config.metrics_host) else [read_guard((read_token(config), webhook_token(config)))]
        app = web.Application(middlewares=[observe_requests(ctx.metrics), *guard])
        app.add_routes(health_routes(ctx))
        http = web.AppRunner(app, access_log=None)
        await http.setup()
        await web.TCPSite(http, config.metrics_host, config.metrics_port).start()
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
