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

A push event of a Harbor scan (``event_id = harbor:<scan id>``) is pulled with
the authorization Harbor gave for it, read sealed from the in-memory KV bucket
(``imagewatch.harbor.authorization``) and dropped once the fetch is done; when
the message is dead-lettered the Harbor scan is marked failed with the reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from imagewatch.fetcher import fetch
from imagewatch.harbor import authorization as harbor_auth
from imagewatch.messages import SUBJECT_FETCHED, Fetched, PushEvent
from imagewatch.oci import InvalidReference, NotFound, Reference, RegistryClient, RegistryError
from imagewatch.runtime.blobstore import BlobStoreFull
from imagewatch.runtime.bus import Delivery, Handler
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.runtime.logs import get_logger
from imagewatch.runtime.runner import ServiceContext
from imagewatch.secrets import ThreadScanners, redacted_config
from imagewatch.store import harbor as harbor_store
from imagewatch.store import images as store
from imagewatch.store.installation import fingerprint_key

STAGE = "fetcher"
FULL_RETRY_DELAY = 5.0
"""Seconds (times the attempt) before a push refused by a full blob store is tried again."""
log = get_logger(STAGE)


def _fail(exc: RegistryError) -> Exception:
    return Retry(str(exc)) if exc.transient else Permanent(str(exc))


TAG_RECHECKS = (0.1, 0.3, 1.0, 2.0)


async def tag_serves(client: RegistryClient, reference: Reference, rechecks=TAG_RECHECKS) -> bool:
    """Whether the registry serves ``reference.digest`` under ``reference.tag``.

    An event naming ``tag@digest`` moves the tag in the database only when this
    holds: a scan request (or a stale event) cannot rebind a tag to an old image.
    distribution notifies a manifest push before it links the tag, so a miss is
    asked again after each of ``rechecks`` seconds before it counts.
    """
    tag_ref = Reference.parse(f"{reference.registry}/{reference.repository}:{reference.tag}")
    for delay in (*rechecks, None):
        try:
            current = await client.get_manifest(tag_ref)
            if current.digest == reference.digest:
                return True
        except NotFound:
            pass
        if delay is not None:
            await asyncio.sleep(delay)
    return False


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


AuthorizedClient = Callable[[str, str], RegistryClient]


async def _client_for(ctx: ServiceContext, event: PushEvent, client: RegistryClient,
                      authorized: AuthorizedClient | None) -> RegistryClient:
    scan_id = harbor_auth.scan_id_of(event.event_id)
    if scan_id is None or authorized is None:
        return client
    async with ctx.pool.acquire() as conn:
        key = await fingerprint_key(conn)
    try:
        value = await harbor_auth.take(ctx.bus.js, ctx.config.harbor.authorization_ttl, key, scan_id,
                                       ctx.config.bus.replicas)
    except harbor_auth.AuthorizationUnavailable as exc:
        raise Permanent(str(exc)) from None
    return authorized(event.registry, value)


def harbor_failed(ctx: ServiceContext):
    """The fetcher's ``on_dead`` hook: a dead-lettered Harbor scan is failed with the reason."""
    async def on_dead(event: PushEvent, error: str) -> None:
        scan_id = harbor_auth.scan_id_of(event.event_id)
        if scan_id is None:
            return
        async with ctx.pool.acquire() as conn:
            await harbor_store.fail_scan(conn, scan_id, error)
        await harbor_auth.forget(ctx.bus.js, ctx.config.harbor.authorization_ttl, scan_id,
                                 ctx.config.bus.replicas)
    return on_dead


def push_handler(ctx: ServiceContext, client: RegistryClient, scanners: ThreadScanners,
                 authorized: AuthorizedClient | None = None) -> Handler:
    """The handler of ``PushEvent`` bound to a service context, a registry client and scanners.

    The event's reference is parsed and validated before anything is asked of a
    registry. ``authorized(host, authorization)`` makes the client of a Harbor scan's pull.
    """
    cfg = ctx.config.fetcher

    async def handle(event: PushEvent, delivery: Delivery) -> None:
        try:
            reference = Reference.parse(event.reference)
        except InvalidReference as exc:
            async with ctx.pool.acquire() as conn:
                await store.record_failure(conn, event.reference[:500], STAGE, str(exc))
            raise Permanent(str(exc)) from None
        pull = await _client_for(ctx, event, client, authorized)
        await _fetch(event, reference, pull, delivery)
        scan_id = harbor_auth.scan_id_of(event.event_id)
        if scan_id is not None:
            await harbor_auth.forget(ctx.bus.js, ctx.config.harbor.authorization_ttl, scan_id,
                                     ctx.config.bus.replicas)

    async def _fetch(event: PushEvent, reference: Reference, client: RegistryClient, delivery: Delivery) -> None:
        tag = reference.tag
        try:
            images = await fetch.resolve(client, reference, cfg.platforms)
            if tag and reference.digest and not await tag_serves(client, reference):
                log.warning("tag not moved: the registry does not serve this digest under it",
                            reference=str(reference))
                tag = ""
        except RegistryError as exc:
            async with ctx.pool.acquire() as conn:
                await store.record_failure(conn, str(reference), STAGE, str(exc))
            raise _fail(exc) from None
        registry, repository = reference.registry, reference.repository
        for image in images:
            config = _config_json(image.config_data)
            if config is not None:
                config = await asyncio.to_thread(redacted_config, config, scanners.get())
            async with ctx.pool.acquire() as conn:
                await store.record_image(
                    conn, digest=image.digest, registry=registry, repository=repository,
                    media_type=image.media_type, platform=image.platform,
                    config_digest=image.config_digest, config=config,
                    index_digest=image.index_digest, layers=image.layers, tag=tag)
                await store.set_stage(conn, image.digest, STAGE, "running")
                pairs = [(layer.digest, layer.diff_id) for layer in image.layers]
                wanted = await store.layers_needing_scan(conn, pairs)
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
                image_digest=image.digest, registry=registry, repository=repository,
                tag=tag, platform=image.platform, config_digest=image.config_digest,
                index_digest=image.index_digest, layers=image.layers, new_layers=ready,
            ), msg_id=f"fetched:{image.digest}:{event.event_id}")
            log.info("fetched", image_digest=image.digest, platform=image.platform,
                     layers=len(image.layers), new_layers=len(ready))

    return handle
