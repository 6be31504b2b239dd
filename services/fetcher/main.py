"""The fetcher service: ``iw.push`` → resolve, verify, store new layers → ``iw.fetched``.

The only holder of registry credentials. For each platform image of the
pushed reference: record image, tag and layers; download layers some stage has
not analysed (verified against their digests) into the blob store; publish
``iw.fetched``. A transient registry error retries; a permanent one (missing
manifest, digest mismatch, refused credentials) marks the scan failed with the
reason and dead-letters the message. The service keeps running either way.
"""

from __future__ import annotations

import asyncio

import aiohttp

from imagewatch.fetcher import fetch
from imagewatch.runtime.bus import Delivery, Worker
from imagewatch.config import Config
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.runtime.logs import get_logger
from imagewatch.messages import SUBJECT_FETCHED, SUBJECT_PUSH, Fetched, PushEvent
from imagewatch.oci import Reference, RegistryError
from imagewatch.runtime.runner import ServiceContext, serve
from imagewatch.secrets import ThreadScanners, redacted_config
from imagewatch.store.installation import fingerprint_key
from imagewatch.store import images as store

log = get_logger("fetcher")


def _fail(exc: RegistryError) -> Exception:
    return Retry(str(exc)) if exc.transient else Permanent(str(exc))


async def setup(ctx: ServiceContext) -> list[Worker]:
    """One worker on ``iw.push``."""
    session = aiohttp.ClientSession()
    ctx.cleanup.append(session.close)
    cfg = ctx.config.fetcher
    client = fetch.make_client(session, cfg, use_docker_config=False)
    async with ctx.pool.acquire() as conn:
        key = await fingerprint_key(conn)
    scanners = ThreadScanners(key, max_file_bytes=ctx.config.secrets.max_file_bytes)

    async def handle(event: PushEvent, delivery: Delivery) -> None:
        reference = Reference(event.registry, event.repository, event.tag, event.digest)
        try:
            images = await fetch.resolve(client, reference, cfg.platforms)
        except RegistryError as exc:
            async with ctx.pool.acquire() as conn:
                await store.record_failure(conn, str(reference), "fetcher", str(exc))
            raise _fail(exc) from None
        for image in images:
            # The raw config goes to the blob store for the secrets stage; PostgreSQL
            # (and so the API) only ever holds it with secret values removed.
            await fetch.store_bytes(ctx.blobs, image.config_digest, image.config_data)
            config = _config_json(image.config_data)
            if config is not None:
                config = await asyncio.to_thread(redacted_config, config, scanners.get())
            async with ctx.pool.acquire() as conn:
                await store.record_image(
                    conn, digest=image.digest, registry=event.registry, repository=event.repository,
                    media_type=image.media_type, platform=image.platform,
                    config_digest=image.config_digest, config=config,
                    index_digest=image.index_digest, layers=image.layers, tag=event.tag)
                await store.set_stage(conn, image.digest, "fetcher", "running")
                wanted = await store.layers_needing_scan(conn, [layer.diff_id for layer in image.layers])
            try:
                ready = await fetch.store_layers(client, image, wanted, ctx.blobs, cfg.concurrency)
            except RegistryError as exc:
                async with ctx.pool.acquire() as conn:
                    await store.set_stage(conn, image.digest, "fetcher", "failed", str(exc))
                raise _fail(exc) from None
            async with ctx.pool.acquire() as conn:
                await store.init_stages(conn, image.digest)
                await store.set_stage(conn, image.digest, "fetcher", "done")
            await ctx.bus.publish(SUBJECT_FETCHED, Fetched(
                image_digest=image.digest, registry=event.registry, repository=event.repository,
                tag=event.tag, platform=image.platform, config_digest=image.config_digest,
                index_digest=image.index_digest, layers=image.layers, new_layers=ready,
            ), msg_id=f"fetched:{image.digest}:{event.event_id}")
            log.info("fetched", image_digest=image.digest, platform=image.platform,
                     layers=len(image.layers), new_layers=len(ready))

    return [Worker(ctx.bus, "fetcher", SUBJECT_PUSH, PushEvent, handle, cfg.concurrency, ctx.metrics)]


def _config_json(data: bytes) -> dict | None:
    import json

    try:
        return json.loads(data)
    except ValueError:
        return None


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("fetcher", config, setup)
