"""The inventory of one image: analyse the layers not analysed before, then compose.

Shared by the inventory service (PostgreSQL cache, blob store) and
``imagewatch scan`` (directory cache, registry blobs). Per layer, results are
cached by (diff_id, analyser name, analyser version); only analysers without a
cached result run, in one pass over the blob. What composition needs from the
layer itself (paths, whiteouts, opaque directories, symlinks, OS) is cached
under the pseudo analyser ``LAYER_META`` at ``LAYER_META_VERSION``. Analysis is
CPU-bound and runs in a worker thread so that the event loop stays free; with
``concurrency`` above 1 the next layers download while one is analysed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec

from imagewatch.inventory import analysis as _analysis
from imagewatch.ecosystems.base import Analyser
from imagewatch.layers import LayerError, LayerLimits
from imagewatch.inventory.analysis import AnalyserResult, LayerAnalysis
from imagewatch.inventory.compose import Inventory, compose
from imagewatch.runtime.layercache import DirectoryResultCache
from imagewatch.runtime.layerblob import Fetch, LayerFailed, fetched_blob

LAYER_META = "_layer"
LAYER_META_VERSION = 1
LAYER_CONCURRENCY = 1  # layers in flight per image; 2 pays only when fetching is slow (see docs/benchmarks.md)
ANALYSE_AT_ONCE = 1  # layers analysed at once per image


class LayerCache(Protocol):
    """Per-layer results keyed by (diff_id, analyser name, version); values are JSON builtins.

    A diff_id is a claim of the image config until a read of the blob checked
    it: results are used only for a (blob digest, diff_id) pair ``verified``
    before, and ``mark_verified`` is called only after a read checked the pair.
    """

    async def load(self, diff_id: str, keys: Sequence[tuple[str, int]]) -> dict[str, object]:
        """The cached results among ``keys`` for one layer, by analyser name."""
        ...

    async def store(self, diff_id: str, results: Mapping[tuple[str, int], object]) -> None:
        """Cache results of one layer, keyed by (analyser name, version)."""
        ...

    async def verified(self, digest: str, diff_id: str) -> bool:
        """Whether blob ``digest`` was checked to decompress to ``diff_id``."""
        ...

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        """Record that blob ``digest`` was checked to decompress to ``diff_id``."""
        ...


@dataclass(frozen=True)
class LayerSource:
    """A layer to inventory: ``fetch(path)`` writes its blob (verified against ``digest``) to ``path``.

    ``diff_id`` is the image config's claim, checked while the blob is read;
    ``digest`` is the blob's digest ("" when the blob is the plain tar, whose
    digest is the diff_id).
    """

    diff_id: str
    media_type: str
    fetch: Fetch
    digest: str = ""

    @property
    def blob_digest(self) -> str:
        """The digest of the blob ``fetch`` writes."""
        return self.digest or self.diff_id


MAX_PROBLEMS = 100  # lines kept of what a scan could not read


@dataclass
class ImageInventory:
    """The composed inventory and, per analysed layer, which analysers ran (cache misses).

    ``problems`` lists what could not be read (analyser errors, files skipped
    by a limit or budget), one line each: when it is not empty the inventory
    is partial and may miss packages.
    """

    inventory: Inventory
    analysed: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def problems_of(layers: Sequence[tuple[str, LayerAnalysis]]) -> list[str]:
    """What the analysis of each layer (bottom to top) could not read, at most ``MAX_PROBLEMS`` lines."""
    out: list[str] = []
    for index, (diff_id, analysis) in enumerate(layers):
        where = f"layer {index} ({diff_id})"
        for name, result in sorted(analysis.results.items()):
            if result.error:
                out.append(f"{where}: {result.error}")
            out.extend(f"{where}: analysers.{name}: {line}" for line in result.skipped)
        out.extend(f"{where}: {path}: not analysed ({why})" for path, why in sorted(analysis.skipped.items()))
    if len(out) > MAX_PROBLEMS:
        out = out[:MAX_PROBLEMS - 1] + [f"... and {len(out) - MAX_PROBLEMS + 1} more"]
    return out


def stage_version(analysers: Sequence[Analyser]) -> str:
    """The inventory's scanner version: every ``name:version`` pair, sorted, meta included."""
    pairs = [f"{LAYER_META}:{LAYER_META_VERSION}", *(f"{a.name}:{a.version}" for a in analysers)]
    return ",".join(sorted(pairs))


def limits_from(max_layer_bytes: int, max_entries: int, max_file_bytes: int) -> LayerLimits:
    """Layer limits from the inventory configuration's three numbers."""
    return LayerLimits(max_layer_bytes=max_layer_bytes, max_entries=max_entries, max_file_bytes=max_file_bytes)


def _meta(analysis: LayerAnalysis) -> LayerAnalysis:
    return msgspec.structs.replace(analysis, results={})


def _analyse_file(path: Path, media_type: str, analysers: Sequence[Analyser], limits: LayerLimits,
                  tmp_dir: Path | None, diff_id: str) -> LayerAnalysis:
    with open(path, "rb") as blob:
        return _analysis.analyse_layer(blob, media_type, analysers, limits, tmp_dir=tmp_dir, diff_id=diff_id)


async def analyse_cached(source: LayerSource, analysers: Sequence[Analyser], cache: LayerCache,
                         limits: LayerLimits = LayerLimits(), tmp_dir: Path | None = None,
                         *, cpu: asyncio.Semaphore | None = None) -> tuple[LayerAnalysis, list[str]]:
    """One layer's analysis from the cache, reading the blob only for missing analysers.

    Returns the analysis and the names of the analysers that ran (empty on a
    full cache hit). Cached results count only when the cache ``verified`` this
    blob against the claimed diff_id before; otherwise the blob is read by every
    analyser. The read checks the content against the diff_id, and nothing is
    cached (nor the pair marked verified) unless it matched. Raises
    ``LayerFailed`` when the layer is refused (``diff_id`` mismatch included) or
    corrupt. ``cpu``, when given, is held while the fetched blob is analysed.
    """
    keys = [(a.name, a.version) for a in analysers] + [(LAYER_META, LAYER_META_VERSION)]
    cached = {}
    if await cache.verified(source.blob_digest, source.diff_id):
        cached = await cache.load(source.diff_id, keys)
    missing = [a for a in analysers if a.name not in cached]
    if missing or LAYER_META not in cached:
        async with fetched_blob(source.fetch, tmp_dir, "iw-blob-") as blob:
            try:
                async with cpu or contextlib.nullcontext():
                    fresh = await asyncio.to_thread(_analyse_file, blob, source.media_type, missing,
                                                    limits, tmp_dir, source.diff_id)
            except LayerError as exc:
                raise LayerFailed(source.diff_id, exc) from exc
        new = {(a.name, a.version): msgspec.to_builtins(fresh.results[a.name]) for a in missing}
        new[(LAYER_META, LAYER_META_VERSION)] = msgspec.to_builtins(_meta(fresh))
        await cache.store(source.diff_id, new)
        await cache.mark_verified(source.blob_digest, source.diff_id)
        cached.update({name: value for (name, _), value in new.items()})
    meta = msgspec.convert(cached[LAYER_META], LayerAnalysis)
    results = {a.name: msgspec.convert(cached[a.name], AnalyserResult) for a in analysers}
    return msgspec.structs.replace(meta, results=results), [a.name for a in missing]


async def inventory_image(layers: Sequence[LayerSource], analysers: Sequence[Analyser], cache: LayerCache,
                          limits: LayerLimits = LayerLimits(), tmp_dir: Path | None = None,
                          concurrency: int = LAYER_CONCURRENCY) -> ImageInventory:
    """Analyse (or recall) each layer and compose the image inventory, base layer first.

    Up to ``concurrency`` layers are in flight, lowest first: the next layers
    download while one is analysed (analysis holds the GIL for most of its
    time, so ``ANALYSE_AT_ONCE`` stays 1). A layer that appears twice is
    analysed once. The result does not depend on timing: when layers fail, the
    lowest one's error is raised (as if they ran one after another) and the
    layers above it are cancelled.
    """
    # Keyed by blob too: two blobs claiming one diff_id are both checked (one of them lies).
    unique: dict[tuple[str, str], LayerSource] = {}
    for source in layers:
        unique.setdefault((source.blob_digest, source.diff_id), source)
    gate, cpu = asyncio.Semaphore(max(1, concurrency)), asyncio.Semaphore(ANALYSE_AT_ONCE)

    async def one(source: LayerSource) -> tuple[LayerAnalysis, list[str]]:
        async with gate:
            return await analyse_cached(source, analysers, cache, limits, tmp_dir, cpu=cpu)

    tasks = [asyncio.create_task(one(source)) for source in unique.values()]
    done: dict[str, LayerAnalysis] = {}
    out = ImageInventory(inventory=Inventory())
    try:
        for (_, diff_id), task in zip(unique, tasks):
            done[diff_id], ran = await task
            if ran:
                out.analysed[diff_id] = ran
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    ordered = [(source.diff_id, done[source.diff_id]) for source in layers]
    out.inventory = compose(ordered)
    out.problems = problems_of(ordered)
    return out


class DirectoryLayerCache(DirectoryResultCache):
    """A ``LayerCache`` in a directory: one JSON file per (diff_id, analyser, version)."""

    async def load(self, diff_id: str, keys: Sequence[tuple[str, int]]) -> dict[str, object]:
        """The readable cached results among ``keys`` for one layer, by analyser name."""
        out: dict[str, object] = {}
        for name, version in keys:
            data = self.read(diff_id, name, version)
            if data is None:
                continue
            try:
                out[name] = json.loads(data)
            except ValueError:
                continue
        return out

    async def store(self, diff_id: str, results: Mapping[tuple[str, int], object]) -> None:
        """Cache results of one layer, keyed by (analyser name, version)."""
        for (name, version), value in results.items():
            self.write(diff_id, name, version, msgspec.json.encode(value))
