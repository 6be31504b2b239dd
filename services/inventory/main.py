"""The inventory service: ``iw.fetched`` → analyse new layers, compose, store → ``iw.inventory``.

Layers whose results are cached for every analyser (at its current version)
are not read; the others are read once from the blob store, by the missing
analysers only (``imagewatch.inventory.image``). A refused or corrupt layer is
recorded in ``layer_errors`` and on the scan, and the message dead-lettered;
a blob not (yet) in the store is retried. Every write is an idempotent upsert
or a replace, so a redelivered message changes nothing visible.
"""

from __future__ import annotations


from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.runtime.blobstore import BlobMissing
from imagewatch.runtime.bus import Delivery, Worker
from imagewatch.config import Config
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.inventory.image import LayerFailed, LayerSource, inventory_image, limits_from, stage_version
from imagewatch.runtime.logs import get_logger
from imagewatch.messages import SUBJECT_FETCHED, SUBJECT_INVENTORY, Fetched, InventoryReady
from imagewatch.runtime.runner import ServiceContext, serve
from imagewatch.store import images, packages

from imagewatch.inventory.pgcache import PgLayerCache

STAGE = "inventory"
log = get_logger(STAGE)


async def setup(ctx: ServiceContext) -> list[Worker]:
    """Register the stage version, then one worker on ``iw.fetched``."""
    analysers = default_analysers()
    version = stage_version(analysers)
    async with ctx.pool.acquire() as conn:
        await images.register_stage_version(conn, STAGE, version)
    cfg = ctx.config.inventory
    limits = limits_from(cfg.max_layer_bytes, cfg.max_entries, cfg.max_file_bytes)
    tmp = ctx.tmp_dir()
    cache = PgLayerCache(ctx.pool)

    async def handle(msg: Fetched, delivery: Delivery) -> None:
        digest = msg.image_digest
        async with ctx.pool.acquire() as conn:
            await images.set_stage(conn, digest, STAGE, "running")
        try:
            sources = [LayerSource(layer.diff_id, layer.media_type, ctx.blob_fetcher(layer.digest), layer.digest)
                       for layer in msg.layers]
            result = await inventory_image(sources, analysers, cache, limits, tmp)
        except LayerFailed as exc:
            async with ctx.pool.acquire() as conn:
                await packages.record_layer_error(conn, exc.diff_id, STAGE, str(exc))
            raise Permanent(str(exc)) from None
        except BlobMissing as exc:
            raise Retry(str(exc)) from None
        inventory = result.inventory
        async with ctx.pool.acquire() as conn:
            for layer in msg.layers:
                await images.mark_layer_scanned(conn, layer.diff_id, STAGE, version)
            await packages.replace_image_packages(conn, digest, inventory.packages, inventory.os)
            await images.set_stage(conn, digest, STAGE, "done", problems=result.problems)
        # keyed by the push that led here: a second tag of the same image is its own event
        await ctx.bus.publish(SUBJECT_INVENTORY, InventoryReady(
            image_digest=digest, registry=msg.registry, repository=msg.repository, tag=msg.tag,
            package_count=len(inventory.packages),
        ), msg_id=f"inventory:{delivery.msg_id}")
        if result.problems:
            log.warning("inventory partial", image_digest=digest, problems=len(result.problems),
                        first=result.problems[0])
        log.info("inventory stored", image_digest=digest, packages=len(inventory.packages),
                 analysed={d: len(names) for d, names in result.analysed.items()})

    return [Worker(ctx.bus, STAGE, SUBJECT_FETCHED, Fetched, handle, cfg.concurrency, ctx.metrics,
                   on_dead=ctx.fail_stage)]


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve(STAGE, config, setup)
