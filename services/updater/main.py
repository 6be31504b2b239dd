"""The updater service: runs the advisory sources on a schedule and announces changes.

Every ``updater.interval_hours`` (and at start with ``updater.run_at_start``)
it runs the configured sources (``updater.sources``; all default sources when
empty). Any number of replicas may run: a source held by another replica is
skipped. Each source that changed something is announced on ``iw.vulndb``.
With ``updater.publish_to`` set, the portable database is exported and pushed
there after the first pass and after every pass that changed something, so
``imagewatch scan --db-repository`` in CI reads what the matcher reads.
The KEV, EPSS, endoflife.date and Debian tracker feeds are sources too, at the ``[feeds]`` URLs.
With ``[retention] enabled`` it also runs the retention pass every
``retention.interval_hours`` (``imagewatch.updater.retention``): tags and
untagged images checked against their registry, then what aged out pruned.
"""

from __future__ import annotations

import asyncio

import aiohttp

from imagewatch.advisories.malicious import SOURCE as MALICIOUS_SOURCE
from imagewatch.advisories.sources.catalog import configure_feeds
from imagewatch.advisories.sources.malicious import MaliciousPackagesSource
from imagewatch.updater import retention
from imagewatch.updater import sync as updating
from imagewatch.config import Config
from imagewatch.runtime.logs import get_logger
from imagewatch.runtime.runner import ServiceContext, serve

log = get_logger("updater")


def available_sources() -> dict:
    """The sources this service can run, by name (tests replace this)."""
    return updating.default_sources()


def configured_sources(config: Config) -> dict:
    """``available_sources`` with the malicious-packages feed at ``[malware] feed_url``."""
    sources = available_sources()
    feed = sources.get(MALICIOUS_SOURCE)
    if isinstance(feed, MaliciousPackagesSource):
        feed.url = config.malware.feed_url
    return configure_feeds(sources, config.feeds)


async def run_once(ctx: ServiceContext, session: aiohttp.ClientSession) -> list[updating.SyncResult]:
    """One pass over the configured sources."""
    sources = updating.select_sources(ctx.config.updater.sources, configured_sources(ctx.config))
    results = await updating.run_sources(ctx.pool, sources, session, ctx.bus)
    for r in results:
        if r.state == "failed":
            ctx.metrics.sync_failures.labels(r.source).inc()
            log.warning("source failed", source=r.source, error=r.error)
        else:
            log.info("source run", source=r.source, state=r.state, advisories=len(r.advisories),
                     packages=len(r.changed), messages=r.published)
    await publish(ctx, results)
    return results


_published = {"once": False}


async def publish(ctx: ServiceContext, results: list[updating.SyncResult]) -> None:
    """Push the portable database to ``updater.publish_to`` when set and something changed (or never pushed)."""
    target = ctx.config.updater.publish_to
    if not target or (_published["once"] and not any(r.state == "changed" for r in results)):
        return
    from imagewatch.portable.publish import export_and_push

    try:
        digest = await export_and_push(ctx.pool, ctx.config.fetcher, target)
    except Exception as exc:  # noqa: BLE001 - the next pass tries again
        log.error("database publish failed", target=target, error=str(exc) or type(exc).__name__)
        return
    _published["once"] = True
    log.info("database published", target=target, digest=digest)


async def _schedule(ctx: ServiceContext, session: aiohttp.ClientSession) -> None:
    cfg = ctx.config.updater
    first = True
    while not ctx.stopping.is_set():
        if not first or cfg.run_at_start:
            try:
                await run_once(ctx, session)
            except Exception as exc:  # noqa: BLE001 - the next pass tries again
                log.error("update pass failed", error=str(exc) or type(exc).__name__)
        first = False
        try:
            await asyncio.wait_for(ctx.stopping.wait(), cfg.interval_hours * 3600)
        except asyncio.TimeoutError:
            pass


async def retention_once(ctx: ServiceContext) -> None:
    """One retention pass: the registry check under the fetcher's egress policy and credentials, then the prune."""
    from imagewatch.fetcher import fetch

    fetcher = ctx.config.fetcher
    async with fetch.session_for(fetch.egress_policy(fetcher, fetch.credential_hosts(fetcher)),
                                 trust_env=True) as session:
        client = fetch.make_client(session, fetcher)
        ran = await retention.run_retention(ctx.pool, client, ctx.config.retention)
    if ran is None:
        return
    checked, pruned = ran
    log.info("retention pass", tags_checked=checked.tags_checked, tags_dropped=checked.tags_dropped,
             images_checked=checked.images_checked, images_gone=checked.images_gone,
             inconclusive=checked.errors, deleted=pruned.deleted)


RETENTION_FIRST_DELAY = 300.0
"""Seconds after start before the first retention pass (at most ``retention.interval_hours``)."""


async def _retention_schedule(ctx: ServiceContext) -> None:
    interval = ctx.config.retention.interval_hours * 3600
    wait = min(RETENTION_FIRST_DELAY, interval)
    while True:
        try:
            await asyncio.wait_for(ctx.stopping.wait(), wait)
            return
        except asyncio.TimeoutError:
            pass
        try:
            await retention_once(ctx)
        except Exception as exc:  # noqa: BLE001 - the next pass tries again
            log.error("retention pass failed", error=str(exc) or type(exc).__name__)
        wait = interval


async def setup(ctx: ServiceContext) -> list:
    """Start the schedule; the updater consumes no subject."""
    updating.select_sources(ctx.config.updater.sources, configured_sources(ctx.config))  # fail fast on a bad name
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=20, sock_read=300)
    session = aiohttp.ClientSession(trust_env=True, timeout=timeout)
    ctx.cleanup.append(session.close)
    ctx.background.append(asyncio.create_task(_schedule(ctx, session)))
    if ctx.config.retention.enabled:
        ctx.background.append(asyncio.create_task(_retention_schedule(ctx)))
    return []


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("updater", config, setup)
