"""The fetcher service: ``iw.push`` → resolve, verify, store new layers → ``iw.fetched``.

The only holder of registry credentials. The stage itself is
``imagewatch.fetcher.stage``: a transient registry error retries; a permanent
one (missing manifest, digest mismatch, refused credentials) marks the scan
failed with the reason and dead-letters the message. The service keeps running
either way.
"""

from __future__ import annotations

from imagewatch.config import Config
from imagewatch.fetcher import fetch
from imagewatch.fetcher.stage import STAGE, harbor_failed, push_handler, secret_scanners
from imagewatch.messages import SUBJECT_PUSH, PushEvent
from imagewatch.runtime.bus import Worker
from imagewatch.runtime.runner import ServiceContext, serve


async def setup(ctx: ServiceContext) -> list[Worker]:
    """One worker on ``iw.push``."""
    cfg = ctx.config.fetcher
    session = fetch.session_for(fetch.egress_policy(cfg))
    ctx.cleanup.append(session.close)
    client = fetch.make_client(session, cfg, use_docker_config=False)
    handler = push_handler(ctx, client, await secret_scanners(ctx),
                           lambda host, authorization: fetch.authorized_client(session, cfg, host, authorization))
    return [Worker(ctx.bus, STAGE, SUBJECT_PUSH, PushEvent, handler, cfg.concurrency, ctx.metrics,
                   on_dead=harbor_failed(ctx))]


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve(STAGE, config, setup)
