"""Fold per-layer analyses bottom to top into the image's package inventory.

Packages are grouped by the file they were read from (analyser, path). In each
layer, first whiteouts and opaque directories remove lower files, then any
non-directory entry at a file's path (or at one of its parent directories)
replaces it, then the layer's own results are added. A package's ``layer`` is
the diff_id of the lowest layer of the unbroken run of layers in which the same
(ecosystem, name, version) was in the image: rewriting ``var/lib/dpkg/status``
does not re-introduce every package. Language packages are tracked per file
too, so a pip-installed copy is not dated by a distro-owned copy elsewhere. Language packages read from a file that
an OS package owns are dropped: the distro already reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import msgspec

from imagewatch.models import OSInfo, Package
from imagewatch.inventory.analysis import LayerAnalysis
from imagewatch.ecosystems.purls import os_package
from imagewatch.layers.paths import ancestors, resolve

Source = tuple[str, str]  # (analyser name, image path)
Key = tuple[str, str, str, str]


def _key(pkg: Package) -> Key:
    return (pkg.ecosystem, pkg.name, pkg.version, pkg.path if pkg.kind == "lang" else "")


class Inventory(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The packages of an image (OS first) and the OS it is built on."""

    os: OSInfo | None = None
    packages: list[Package] = []


def _gone(path: str, layer: LayerAnalysis) -> bool:
    """Whether ``layer`` deletes, hides or replaces the lower file at ``path``."""
    if path in layer.whiteouts or path in layer.paths:
        return True
    return any(a in layer.whiteouts or a in layer.opaque_dirs or a in layer.paths for a in ancestors(path))


def _fold_symlinks(symlinks: dict[str, str], layer: LayerAnalysis) -> None:
    for link in [s for s in symlinks if _gone(s, layer)]:
        del symlinks[link]
    symlinks.update(layer.symlinks)


def _owned_paths(owned: dict[Source, dict[str, list[str]]], symlinks: dict[str, str]) -> set[str]:
    @lru_cache(maxsize=None)
    def real_dir(directory: str) -> str:
        return resolve(directory, symlinks)

    out: set[str] = set()
    for per_package in owned.values():
        for paths in per_package.values():
            for p in paths:
                out.add(p)
                head, _, base = p.rpartition("/")
                if head:
                    out.add(f"{real_dir(head)}/{base}")
    return out


def _owned_by_os(path: str, owned: set[str], symlinks: dict[str, str], layers: Sequence[LayerAnalysis]) -> bool:
    """Whether an OS package owns ``path``, or the archive file it is nested in.

    Nested archive packages have paths like ``app.jar/BOOT-INF/lib/x.jar``; an
    owned ancestor counts only if it is a file, since packages also own directories.
    """
    if path in owned or resolve(path, symlinks) in owned:
        return True
    return any((a in owned or resolve(a, symlinks) in owned) and any(a in la.paths for la in layers)
               for a in ancestors(path))


def compose(layers: Sequence[tuple[str, LayerAnalysis]]) -> Inventory:
    """The image inventory from ``(diff_id, analysis)`` pairs, base layer first."""
    packages: dict[Source, list[Package]] = {}
    owned: dict[Source, dict[str, list[str]]] = {}
    symlinks: dict[str, str] = {}
    introduced: dict[Key, int] = {}
    os_info: OSInfo | None = None
    for index, (_, layer) in enumerate(layers):
        for state in (packages, owned):
            for source in [s for s in state if _gone(s[1], layer)]:
                del state[source]
        _fold_symlinks(symlinks, layer)
        for name, result in layer.results.items():
            for pkg in result.packages:
                packages.setdefault((name, pkg.path), []).append(pkg)
            for db, per_package in result.owned.items():
                owned[(name, db)] = per_package
        os_info = layer.os or os_info
        present = {_key(p) for pkgs in packages.values() for p in pkgs}
        introduced = {key: introduced.get(key, index) for key in present}
    owned_paths = _owned_paths(owned, symlinks)
    analyses = [layer for _, layer in layers]
    out: list[Package] = []
    for pkgs in packages.values():
        for pkg in pkgs:
            if pkg.kind == "lang" and _owned_by_os(pkg.path, owned_paths, symlinks, analyses):
                continue
            diff_id = layers[introduced[_key(pkg)]][0]
            pkg = msgspec.structs.replace(pkg, layer=diff_id)
            out.append(os_package(pkg, os_info) if pkg.kind == "os" else pkg)
    out.sort(key=lambda p: (p.kind != "os", p.ecosystem, p.name, p.version, p.path))
    return Inventory(os=os_info, packages=out)
