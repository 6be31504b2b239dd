"""Scan one image: every layer (cached or read once), bottom to top, then the config."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from imagewatch.layers import LayerError, LayerLimits
from imagewatch.malware import tamper
from imagewatch.models import LayerRef, SecretFinding
from imagewatch.secrets.misconfig import check_config
from imagewatch.secrets.cache import NoSecretCache, SecretLayerCache
from imagewatch.secrets.layer import BASE_ONLY_DROPPED, LayerSecrets, scan_layer
from imagewatch.secrets.removal import Removals
from imagewatch.secrets.scanners import ThreadScanners
from imagewatch.runtime.layerblob import Fetch, LayerFailed, fetched_blob

SecretLayerFailed = LayerFailed


@dataclass(frozen=True)
class SecretLayerSource:
    """A layer to scan: its ``ref``, and either a local blob ``path`` or ``fetch(path)`` that writes it."""

    ref: LayerRef
    fetch: Fetch | None = None
    path: Path | None = None


@dataclass
class ImageSecrets:
    """An image's findings (layer fields filled) and the diff_ids read (cache misses).

    ``stats`` and ``uncompressed_bytes`` count the layers read this time only.
    """

    findings: list[SecretFinding] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)
    uncompressed_bytes: int = 0


def _scan_in_thread(blob: Path, media_type: str, scanners: ThreadScanners, limits: LayerLimits,
                    diff_id: str, recorded: tamper.Recorded) -> LayerSecrets:
    return scan_layer(blob, media_type, scanners.get(), limits, scanners.get_malware(recorded), diff_id)


async def _read_layer(source: SecretLayerSource, scanners: ThreadScanners, limits: LayerLimits,
                      tmp_dir: Path | None, recorded: tamper.Recorded) -> LayerSecrets:
    ref = source.ref
    try:
        if source.path is not None:
            return await asyncio.to_thread(_scan_in_thread, source.path, ref.media_type, scanners, limits,
                                           ref.diff_id, recorded)
        if source.fetch is None:
            raise ValueError(f"secretscan: layer {ref.diff_id} has neither a path nor a fetch")
        async with fetched_blob(source.fetch, tmp_dir, "iw-secrets-") as blob:
            return await asyncio.to_thread(_scan_in_thread, blob, ref.media_type, scanners, limits, ref.diff_id,
                                           recorded)
    except LayerError as exc:
        raise LayerFailed(ref.diff_id, exc) from exc


async def layer_results(layers: Sequence[SecretLayerSource], scanners: ThreadScanners,
                        cache: SecretLayerCache, limits: LayerLimits, tmp_dir: Path | None,
                        ) -> tuple[list[LayerSecrets], list[str]]:
    """Each layer's result, bottom to top, from the cache or read once; and the diff_ids read.

    A cached result counts only when this blob was checked against the claimed
    diff_id before; a read checks it, and nothing is cached before it matched.
    A layer's tampering digests depend on what the package databases below
    it record (``tamper.recorded``): a cached result read above other layers
    (another ``tamper_basis``) is read again.
    """
    out: list[LayerSecrets] = []
    read: list[str] = []
    for source in layers:
        diff_id, digest = source.ref.diff_id, source.ref.digest or source.ref.diff_id
        recorded = (tamper.recorded([r.package_digests for r in out]) if scanners.malware.checks
                    else tamper.Recorded())
        result = None
        if await cache.verified(digest, diff_id):
            result = await cache.load(diff_id, scanners.version)
        if result is not None and result.tamper_basis != recorded.basis:
            result = None
        if result is None:
            result = await _read_layer(source, scanners, limits, tmp_dir, recorded)
            await cache.store(diff_id, scanners.version, result)
            await cache.mark_verified(digest, diff_id)
            read.append(diff_id)
        out.append(result)
    return out, read


def place(layers: Sequence[LayerRef], results: Sequence[LayerSecrets]) -> list[SecretFinding]:
    """Layer findings with ``layer``, ``layer_index`` and ``removed_in`` filled in, plus replaced binaries."""
    removals = Removals([(r.paths, r.whiteouts, r.opaque_dirs) for r in results])
    out: list[SecretFinding] = []
    for index, (ref, result) in enumerate(zip(layers, results)):
        for f in result.findings:
            if index == 0 and f.rule_id in BASE_ONLY_DROPPED:
                continue
            out.append(msgspec.structs.replace(
                f, layer=ref.diff_id, layer_index=index, removed_in=removals.removed_in(f.path, index)))
    digests = [tamper.LayerDigests(files=r.file_digests, databases=r.package_digests, diverted=r.diverted,
                                   paths=[*r.paths, *r.whiteouts]) for r in results]
    for index, f in tamper.tampered(digests):
        out.append(msgspec.structs.replace(f, layer=layers[index].diff_id, layer_index=index))
    return out


def _config_findings(config: Mapping[str, Any], scanners: ThreadScanners) -> list[SecretFinding]:
    return check_config(config, scanners.get())


async def scan_image(layers: Sequence[SecretLayerSource], config: Mapping[str, Any] | None,
                     scanners: ThreadScanners, cache: SecretLayerCache | None = None,
                     limits: LayerLimits = LayerLimits(), tmp_dir: Path | None = None) -> ImageSecrets:
    """Scan an image's layers (bottom to top) and its config blob (parsed JSON, or None to skip).

    Raises ``LayerFailed`` (alias ``SecretLayerFailed``) when a layer is refused or unreadable; errors
    of ``fetch`` (blob missing ...) pass through.
    """
    results, read = await layer_results(layers, scanners, cache or NoSecretCache(), limits, tmp_dir)
    out = ImageSecrets(findings=place([s.ref for s in layers], results), read=read)
    fresh = set(read)
    for source, r in zip(layers, results):
        if source.ref.diff_id not in fresh:
            continue
        out.uncompressed_bytes += r.uncompressed_bytes
        for name, n in r.stats.items():
            out.stats[name] = out.stats.get(name, 0) + n
    if config is not None:
        out.findings += await asyncio.to_thread(_config_findings, config, scanners)
    return out
