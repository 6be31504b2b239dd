"""The secrets service: ``iw.fetched`` → scan layers and config, store redacted → ``iw.secrets``.

Layers cached for the current scanner version are not read; the others are
read once from the blob store (``imagewatch.secrets``), in a worker thread
with that thread's own scanner. Findings are stored with fingerprints and
previews only, and the stored image config loses every value a finding points
at. A refused or corrupt layer fails the stage with the reason and
dead-letters the message; a blob not (yet) in the store is retried.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from imagewatch.runtime.blobstore import BlobError, BlobMissing
from imagewatch.runtime.bus import Delivery, Worker
from imagewatch.config import Config
from imagewatch.runtime.errors import Permanent, Retry
from imagewatch.layers import LayerLimits
from imagewatch.runtime.logs import get_logger
from imagewatch.messages import SUBJECT_FETCHED, SUBJECT_SECRETS, Fetched, SecretsReady
from imagewatch.models import SecretFinding
from imagewatch.runtime.runner import ServiceContext, serve
from imagewatch.runtime.layerblob import LayerFailed
from imagewatch.secrets import SecretLayerSource, ThreadScanners, is_redacted, redact_config, scan_image
from imagewatch.store import images, packages
from imagewatch.store import secrets as store
from imagewatch.store.installation import fingerprint_key

from imagewatch.secrets.pgcache import PgSecretCache

STAGE = "secrets"
log = get_logger(STAGE)


def counts(findings: list[SecretFinding]) -> dict[str, int]:
    """Finding counts by kind (``secret``), by kind and severity (``secret:high``), and ``removed``."""
    out: dict[str, int] = {}
    for f in findings:
        for key in (f.kind, f"{f.kind}:{f.severity}"):
            out[key] = out.get(key, 0) + 1
        if f.removed_in is not None:
            out["removed"] = out.get("removed", 0) + 1
    return out


async def _raw_config(blobs, digest: str, tmp: Path) -> dict | None:
    """The image config as pushed, from the blob store (PostgreSQL holds it redacted)."""
    if not digest:
        return None
    with tempfile.TemporaryDirectory(dir=tmp, prefix="config-") as d:
        path = Path(d) / "config.json"
        try:
            await blobs.get_file(digest, path)
            return json.loads(path.read_bytes())
        except (BlobError, ValueError):
            return None


async def setup(ctx: ServiceContext) -> list[Worker]:
    """Register the stage version, then one worker on ``iw.fetched``."""
    cfg = ctx.config.secrets
    async with ctx.pool.acquire() as conn:
        scanners = ThreadScanners(await fingerprint_key(conn), max_file_bytes=cfg.max_file_bytes,
                                  malware=ctx.config.malware)
        version = scanners.version
        await images.register_stage_version(conn, STAGE, version)
    # Layer size and entry limits are the ones the inventory reads the same layers with.
    limits = LayerLimits(max_layer_bytes=ctx.config.inventory.max_layer_bytes,
                         max_entries=ctx.config.inventory.max_entries, max_read_bytes=cfg.max_file_bytes)
    tmp = ctx.tmp_dir()
    cache = PgSecretCache(ctx.pool)

    async def handle(msg: Fetched, delivery: Delivery) -> None:
        digest = msg.image_digest
        async with ctx.pool.acquire() as conn:
            await images.set_stage(conn, digest, STAGE, "running")
            config = await store.image_config(conn, digest)
        raw = await _raw_config(ctx.blobs, msg.config_digest, tmp)
        if raw is not None:
            config = raw
        async with ctx.pool.acquire() as conn:
            kept = await store.config_findings(conn, digest) if is_redacted(config) else None
        try:
            sources = [SecretLayerSource(layer, fetch=ctx.blob_fetcher(layer.digest)) for layer in msg.layers]
            result = await scan_image(sources, None if kept is not None else config, scanners, cache, limits, tmp)
        except LayerFailed as exc:
            async with ctx.pool.acquire() as conn:
                await packages.record_layer_error(conn, exc.diff_id, STAGE, str(exc))
            raise Permanent(str(exc)) from None
        except BlobMissing as exc:
            raise Retry(str(exc)) from None
        findings = result.findings + (kept or [])
        redacted = redact_config(config, findings) if config is not None and kept is None else None
        if redacted == config or raw is not None:
            redacted = None  # the fetcher stored a redacted config already
        async with ctx.pool.acquire() as conn:
            await store.store_image_secrets(conn, digest, findings, redacted)
            for layer in msg.layers:
                await images.mark_layer_scanned(conn, layer.diff_id, STAGE, version)
            await images.set_stage(conn, digest, STAGE, "done")
        for finding in findings:
            ctx.metrics.secrets_found.labels(finding.kind, finding.severity).inc()
        # keyed by the push that led here (the fetched id holds the digest): a second tag is its own event
        await ctx.bus.publish(SUBJECT_SECRETS, SecretsReady(
            image_digest=digest, registry=msg.registry, repository=msg.repository, tag=msg.tag,
            counts=counts(findings),
        ), msg_id=f"secrets:{delivery.msg_id}")
        log.info("secrets stored", image_digest=digest, findings=len(findings), layers_read=len(result.read),
                 bytes_read=result.uncompressed_bytes,
                 **{f"stats_{k}": v for k, v in result.stats.items() if v})

    return [Worker(ctx.bus, STAGE, SUBJECT_FETCHED, Fetched, handle, cfg.concurrency, ctx.metrics,
                   on_dead=ctx.fail_stage)]


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve(STAGE, config, setup)
