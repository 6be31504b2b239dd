"""Image paths: normalised, never escaping the root; whiteouts; symlinks resolved in the image.

An image path is relative to the image root, with no leading ``/`` or ``./``
and no ``.`` or ``..`` components: ``etc/os-release``.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagewatch.layers.errors import LayerRefused

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_SYMLINK_HOPS = 40


def normalise(name: str) -> str:
    """The image path of a tar entry name; raises ``LayerRefused`` if ``..`` climbs above the root."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise LayerRefused("path_escape", f"entry {name!r} escapes the image root")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def parent(path: str) -> str:
    """The parent image path ('' for the root)."""
    return path.rpartition("/")[0]


def ancestors(path: str) -> list[str]:
    """Every proper parent of ``path``, nearest first, excluding the root."""
    out = []
    while "/" in path:
        path = path.rpartition("/")[0]
        out.append(path)
    return out


def link_target(path: str, target: str) -> str:
    """Where symlink ``path`` → ``target`` points, as an image path.

    Relative targets are taken from the link's directory; ``..`` stops at the
    root, as it does for a process chrooted into the image, so no target can
    leave the image.
    """
    base = [] if target.startswith("/") else parent(path).split("/")
    parts = [p for p in base if p]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def resolve(path: str, symlinks: Mapping[str, str]) -> str:
    """``path`` with every symlink on the way replaced (targets already image paths).

    Loops and chains longer than MAX_SYMLINK_HOPS stop resolution and return
    the path reached so far.
    """
    hops = 0
    parts = path.split("/") if path else []
    done: list[str] = []
    while parts:
        done.append(parts.pop(0))
        current = "/".join(done)
        target = symlinks.get(current)
        if target is not None:
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return "/".join(done + parts)
            parts = (target.split("/") if target else []) + parts
            done = []
    return "/".join(done)
