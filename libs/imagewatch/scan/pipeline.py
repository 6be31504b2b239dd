"""One image through fetch → inventory → match → secrets → misconfiguration, in one process.

The same library code the services run (``inventory.inventory_image``,
``matching.match_packages``, ``secretscan.scan_image``), with per-layer results
in directory caches instead of PostgreSQL and blobs from the target instead of
the blob store. Layers missing from either cache are fetched first, all at
once; the inventory and the secret scan then run side by side.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.inventory.image import (LAYER_META, LAYER_META_VERSION, DirectoryLayerCache, ImageInventory, LayerFailed,
                        LayerSource, inventory_image)
from imagewatch.layers import LayerLimits
from imagewatch.inventory.compose import Inventory
from imagewatch.matcher.coverage import coverage_of
from imagewatch.matcher.matching import match_packages
from imagewatch.matcher.eol import image_eol
from imagewatch.matcher.priority import image_facts
from imagewatch.models import LayerRef
from imagewatch.report import ScanResult
from imagewatch.scan.errors import EXIT_FAILED, ScanError
from imagewatch.scan.progress import Progress
from imagewatch.scan.target import TargetImage
from imagewatch.config import MalwareConfig
from imagewatch.secrets import DirectorySecretCache, SecretLayerSource, ThreadScanners, scan_image
from imagewatch.advisories.lookup import AdvisoryLookup
from imagewatch.store.signals import signals_for
from imagewatch.store.workloads import in_use

SCANNERS = ("vuln", "secret", "misconfig", "malware")


@dataclass(frozen=True)
class PipelineOptions:
    """What to run and with which limits; ``cache_dir`` holds per-layer results across runs."""

    scanners: frozenset[str]
    cache_dir: Path
    tmp_dir: Path
    inventory: bool = True
    limits: LayerLimits = LayerLimits()
    secret_limits: LayerLimits = LayerLimits()
    max_secret_file_bytes: int = 10 << 20
    malware: MalwareConfig = field(default_factory=MalwareConfig)


@dataclass
class PipelineStats:
    """Which layers were read this run (cache misses), per stage."""

    inventory_read: list[str] = field(default_factory=list)
    secrets_read: list[str] = field(default_factory=list)


class _Counted:
    """A cache wrapper that tells the progress line each time a stage reaches a layer."""

    def __init__(self, cache: Any, stage: str, progress: Progress) -> None:
        self.cache, self.stage, self.progress = cache, stage, progress

    async def load(self, *args: Any) -> Any:
        return await self.cache.load(*args)

    async def store(self, *args: Any) -> None:
        await self.cache.store(*args)

    async def verified(self, digest: str, diff_id: str) -> bool:
        self.progress.add_analysed(self.stage)  # the first question a stage asks of each layer
        return await self.cache.verified(digest, diff_id)

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        await self.cache.mark_verified(digest, diff_id)


def _fetcher(image: TargetImage, layer: LayerRef):
    async def fetch(path: Path) -> None:
        # The stages read the blob at ``path`` and unlink it; a symlink keeps one copy on disk.
        src = await image.blob(layer)
        path.unlink(missing_ok=True)
        os.symlink(src.resolve(), path)
    return fetch


async def _missing(layers: Sequence[LayerRef], inventory: DirectoryLayerCache | None, keys: list,
                   secrets: DirectorySecretCache | None, version: str) -> list[LayerRef]:
    out = []
    for layer in layers:
        if inventory is not None and (not await inventory.verified(layer.digest, layer.diff_id)
                                      or len(await inventory.load(layer.diff_id, keys)) < len(keys)):
            out.append(layer)
        elif secrets is not None and (not await secrets.verified(layer.digest, layer.diff_id)
                                      or await secrets.load(layer.diff_id, version) is None):
            out.append(layer)
    return out


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first real error of a failed stage pair, layer failures as ``ScanError``."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    if isinstance(exc, LayerFailed):
        return ScanError(f"scan: {exc}", EXIT_FAILED)
    return exc


def _config_json(data: bytes) -> Mapping[str, Any] | None:
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _postgres(store: Any) -> Any:
    """The asyncpg pool behind ``store``, or None for the portable file (or no store)."""
    if store is None:
        return None
    if isinstance(store, AdvisoryLookup):
        return getattr(store, "conn", None)
    return store


async def scan_one(image: TargetImage, store: Any, options: PipelineOptions, progress: Progress,
                   *, fingerprint_key: bytes) -> tuple[ScanResult, PipelineStats]:
    """Scan ``image``; raises ``ScanError`` on failure.

    ``store`` answers the vulnerability matching (an ``AdvisoryLookup`` or an
    asyncpg pool; None when the vuln scanner is off); ``fingerprint_key`` keys
    the secret fingerprints.
    """
    stats = PipelineStats()
    do_secrets = bool(options.scanners & {"secret", "misconfig", "malware"})
    do_inventory = options.inventory or bool(options.scanners & {"vuln", "malware"})
    analysers = default_analysers()
    keys = [(a.name, a.version) for a in analysers] + [(LAYER_META, LAYER_META_VERSION)]
    inv_cache = DirectoryLayerCache(options.cache_dir / "inventory") if do_inventory else None
    sec_cache = DirectorySecretCache(options.cache_dir / "secrets") if do_secrets else None
    scanners = None
    if do_secrets:
        malware = options.malware if "malware" in options.scanners else MalwareConfig(yara=False, checks=False)
        scanners = ThreadScanners(fingerprint_key, max_file_bytes=options.max_secret_file_bytes, malware=malware)
    progress.set_stage("fetching", len(image.layers))
    needed = await _missing(image.layers, inv_cache, keys, sec_cache, scanners.version if scanners else "")
    await asyncio.gather(*(image.blob(layer) for layer in needed))

    async def inventory() -> ImageInventory | None:
        if inv_cache is None:
            return None
        sources = [LayerSource(layer.diff_id, layer.media_type, _fetcher(image, layer), layer.digest)
                   for layer in image.layers]
        return await inventory_image(sources, analysers, _Counted(inv_cache, "inventory", progress),
                                     options.limits, options.tmp_dir)

    async def secrets():
        if scanners is None:
            return None
        sources = [SecretLayerSource(layer, fetch=_fetcher(image, layer)) for layer in image.layers]
        return await scan_image(sources, _config_json(image.config_data), scanners,
                                _Counted(sec_cache, "secrets", progress), options.secret_limits, options.tmp_dir)

    progress.set_stage("analysing")
    try:
        async with asyncio.TaskGroup() as group:
            inv_task, sec_task = group.create_task(inventory()), group.create_task(secrets())
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    inv, found = inv_task.result(), sec_task.result()
    composed = inv.inventory if inv is not None else Inventory()
    stats.inventory_read = list(inv.analysed) if inv is not None else []
    findings, coverage, signals, eol = [], None, {}, []
    if options.scanners & {"vuln", "malware"} and store is not None:
        progress.set_stage("matching")
        findings = await match_packages(store, composed.packages, composed.os)
        # coverage, KEV/EPSS, end of life and workloads live in PostgreSQL; the portable file has none
        pool = _postgres(store)
        if "vuln" in options.scanners and pool is not None:
            coverage = await coverage_of(pool, composed.packages, composed.os)
            signals = await signals_for(pool, (i for f in findings for i in (f.ids or [f.advisory_id])))
            eol = await image_eol(pool, composed.packages, composed.os)
    wanted = {k for k, s in (("vulnerability", "vuln"), ("malware", "malware")) if s in options.scanners}
    findings = [f for f in findings if f.kind in wanted]
    pool = _postgres(store)
    facts = image_facts(_config_json(image.config_data),
                        in_use=bool(pool is not None and image.digest and await in_use(pool, [image.digest])))
    kinds = {k for k, s in (("secret", "secret"), ("misconfiguration", "misconfig"), ("malware", "malware"))
             if s in options.scanners}
    secret_findings = [f for f in (found.findings if found else []) if f.kind in kinds]
    stats.secrets_read = list(found.read) if found else []
    result = ScanResult(reference=image.reference, digest=image.digest, platform=image.platform,
                        os=composed.os, packages=composed.packages, findings=findings, secrets=secret_findings,
                        coverage=coverage, problems=inv.problems if inv is not None else [],
                        signals=signals, facts=facts, eol=eol, layers=[layer.diff_id for layer in image.layers])
    return result, stats
