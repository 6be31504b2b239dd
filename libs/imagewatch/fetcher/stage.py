"""The fetcher stage: one ``PushEvent`` → platform images recorded, new layers stored → ``iw.fetched``.

For each platform image of the pushed reference: record image, tag and layers
(the image config with secret values removed: PostgreSQL, and so the API,
never holds them); download the layers some stage has not analysed (verified
against their digests) into the blob store; publish ``iw.fetched``. A
registry error is a ``Retry`` when transient, else ``Permanent``; a reference
that cannot be resolved is recorded in ``scan_failures``, a platform image
whose layers cannot be stored gets its fetcher stage marked failed (a full
blob store too, with the reason, and the push is retried with a growing delay
so that it completes once space returns).
"""

from __future__ import annotations

import asyncio
import json

from imagewatch.fetcher import fetch
from imagewatch.messages import SUBJECT_FETCHED, Fetched, PushEvent
from imagewatch.oci import Reference, RegistryClient, RegistryError
from imagewatch.runtime.blobstore import BlobStoreFull
from imagewatch.runtime.bus import Delivery, Handler
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.runtime.logs import get_logger
from imagewatch.runtime.runner import ServiceContext
from imagewatch.secrets import ThreadScanners, redacted_config
from imagewatch.store import images as store
from imagewatch.store.installation import fingerprint_key

STAGE = "fetcher"
FULL_RETRY_DELAY = 5.0
"""Seconds (times the attempt) before a push refused by a full blob store is tried again."""
log = get_logger(STAGE)


def _fail(exc: RegistryError) -> Exception:
    return Retry(str(exc)) if exc.transient else Permanent(str(exc))


def _config_json(data: bytes) -> dict | None:
    try:
        return json.loads(data)
    except ValueError:
        return None


async def secret_scanners(ctx: ServiceContext) -> ThreadScanners:
    """The secret scanners that redact image configs, keyed by the installation's fingerprint key."""
    async with ctx.pool.acquire() as conn:
        key = await fingerprint_key(conn)
    return ThreadScanners(key, max_file_bytes=ctx.config.secrets.max_file_bytes)


def push_handler(ctx: ServiceContext, client: RegistryClient, scanners: ThreadScanners) -> Handler:
    """The handler of ``PushEvent`` bound to a service context, a registry client and scanners."""
    cfg = ctx.config.fetcher

    async def handle(event: PushEvent, delivery: Delivery) -> None:
        reference = Reference(event.registry, event.repository, event.tag, event.digest)
        try:
            images = await fetch.resolve(client, reference, cfg.platforms)
        except RegistryError as exc:
            async with ctx.pool.acquire() as conn:
                await store.record_failure(conn, str(reference), STAGE, str(exc))
            raise _fail(exc) from None
        for image in images:
            config = _config_json(image.config_data)
            if config is not None:
                config = await asyncio.to_thread(redacted_config, config, scanners.get())
            async with ctx.pool.acquire() as conn:
                await store.record_image(
                    conn, digest=image.digest, registry=event.registry, repository=event.repository,
                    media_type=image.media_type, platform=image.platform,
                    config_digest=image.config_digest, config=config,
                    index_digest=image.index_digest, layers=image.layers, tag=event.tag)
                await store.set_stage(conn, image.digest, STAGE, "running")
                wanted = await store.layers_needing_scan(conn, [layer.diff_id for layer in image.layers])
            delivery.images.add(image.digest)
            try:
                # The raw config goes to the blob store for the secrets stage; PostgreSQL
                # (and so the API) only ever holds it with secret values removed.
                await fetch.store_bytes(ctx.blobs, image.config_digest, image.config_data)
                ready = await fetch.store_layers(client, image, wanted, ctx.blobs, cfg.concurrency)
            except (RegistryError, BlobStoreFull) as exc:
                async with ctx.pool.acquire() as conn:
                    await store.set_stage(conn, image.digest, STAGE, "failed", str(exc))
                if isinstance(exc, BlobStoreFull):
                    # the failure stays visible until a later attempt, once space returns, succeeds
                    raise Retry(str(exc), delay=FULL_RETRY_DELAY * delivery.attempt) from None
                raise _fail(exc) from None
            async with ctx.pool.acquire() as conn:
                await store.init_stages(conn, image.digest)
                await store.set_stage(conn, image.digest, STAGE, "done")
            await ctx.bus.publish(SUBJECT_FETCHED, Fetched(
                image_digest=image.digest, registry=event.registry, repository=event.repository,
                tag=event.tag, platform=image.platform, config_digest=image.config_digest,
                index_digest=image.index_digest, layers=image.layers, new_layers=ready,
            ), msg_id=f"fetched:{image.digest}:{event.event_id}")
            log.info("fetched", image_digest=image.digest, platform=image.platform,
                     layers=len(image.layers), new_layers=len(ready))

    return handle
