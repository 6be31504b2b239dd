"""Analyse one layer: one pass, every analyser, OS detection, ownership; a cacheable result."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import msgspec

from imagewatch.ecosystems.base import Analyser, ReportsSkips
from imagewatch.ecosystems.osrelease import OS_FILES, detect_os
from imagewatch.models import OSInfo, Package
from imagewatch.layers.entry import OnEntry
from imagewatch.layers.limits import LayerLimits
from imagewatch.layers.walk import walk_layer

Owned = dict[str, dict[str, list[str]]]


@runtime_checkable
class FileOwner(Protocol):
    """An OS analyser that also says which files each package owns (dpkg, apk, rpm)."""

    def analyse_with_owners(self, files: Mapping[str, Path]) -> tuple[list[Package], Owned]:
        """Packages plus {database file: {package name: [owned image paths]}}."""
        ...


class AnalyserResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What one analyser (at one version) found in one layer: cache it by (diff_id, name, version).

    ``error`` says why the analyser failed; ``skipped`` lists what it left
    unread (a budget, a damaged nested archive). Either makes the scan partial.
    """

    version: int
    packages: list[Package] = []
    owned: Owned = {}
    error: str = ""
    skipped: list[str] = []


class LayerAnalysis(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything composition needs from one layer.

    ``results`` is keyed by analyser name. ``paths`` are the non-directory
    entries present (a later copy of a file replaces a lower one), ``whiteouts``
    the deleted paths, ``opaque_dirs`` the directories whose lower content is
    hidden, ``symlinks`` link → target (image paths). ``skipped`` maps wanted
    files that were too large to the reason.
    """

    results: dict[str, AnalyserResult] = {}
    os: OSInfo | None = None
    paths: frozenset[str] = frozenset()
    whiteouts: frozenset[str] = frozenset()
    opaque_dirs: frozenset[str] = frozenset()
    symlinks: dict[str, str] = {}
    skipped: dict[str, str] = {}
    compression: str = ""
    entries: int = 0
    uncompressed_bytes: int = 0


def _run(analyser: Analyser, files: Mapping[str, Path]) -> AnalyserResult:
    skipped: list[str] = []
    try:
        if isinstance(analyser, FileOwner):
            packages, owned = analyser.analyse_with_owners(files)
        elif isinstance(analyser, ReportsSkips):
            (packages, skipped), owned = analyser.analyse_with_skips(files), {}
        else:
            packages, owned = analyser.analyse(files), {}
    except Exception as exc:  # one broken analyser must not sink the layer
        return AnalyserResult(version=analyser.version,
                              error=f"analysers.{analyser.name}: {type(exc).__name__}: {exc}")
    return AnalyserResult(version=analyser.version, packages=packages, owned=owned, skipped=skipped)


def analyse_layer(
    fileobj: BinaryIO,
    media_type: str,
    analysers: Sequence[Analyser],
    limits: LayerLimits = LayerLimits(),
    *,
    tmp_dir: str | Path | None = None,
    on_entry: OnEntry | None = None,
    diff_id: str | None = None,
) -> LayerAnalysis:
    """Read a layer blob once and run every analyser on the files it wants.

    Wanted files go to a private temporary directory (inside ``tmp_dir`` when
    given) that is removed before returning. OS files are always read.
    ``on_entry`` is passed to ``walk_layer`` so a secret scanner shares the pass.
    An analyser that raises is recorded in its result's ``error``; limits and
    escaping paths raise ``LayerRefused``, corrupt streams ``LayerError``. With
    ``diff_id`` the layer is refused (``LayerRefused``, reason ``diff_id``) unless
    its uncompressed content hashes to it; no analyser runs before that check.
    """
    wanted_by: dict[str, list[int]] = {}
    os_files = set(OS_FILES)

    def want(path: str, size: int) -> bool:
        who = [i for i, a in enumerate(analysers) if a.wants(path, size)]
        if who:
            wanted_by[path] = who
        return bool(who) or path in os_files

    with tempfile.TemporaryDirectory(prefix="iw-layer-", dir=tmp_dir) as tmp:
        walk = walk_layer(fileobj, media_type, want=want, dest=Path(tmp), limits=limits, on_entry=on_entry,
                          diff_id=diff_id)
        results = {}
        for i, analyser in enumerate(analysers):
            # A symlink is the same file again: analysers see regular files (and hard links) only.
            mine = {p: f for p, f in walk.files.items()
                    if i in wanted_by.get(p, ()) and p not in walk.symlinks}
            results[analyser.name] = _run(analyser, mine) if mine else AnalyserResult(version=analyser.version)
        os_info = detect_os({p: f for p, f in walk.files.items() if p in os_files})
    return LayerAnalysis(
        results=results, os=os_info, paths=frozenset(walk.paths),
        whiteouts=frozenset(walk.whiteouts), opaque_dirs=frozenset(walk.opaque_dirs),
        symlinks=walk.symlinks, skipped=walk.skipped, compression=walk.compression,
        entries=walk.entries, uncompressed_bytes=walk.uncompressed_bytes,
    )
