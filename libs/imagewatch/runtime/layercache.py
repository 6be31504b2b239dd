"""Per-layer results as files in a directory, keyed by (diff_id, name, version), written atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

Version = str | int
FileName = Callable[[str, Version], str]


def versioned_name(name: str, version: Version) -> str:
    """The default file name of a result: ``name@version.json``."""
    return f"{name}@{version}.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".part{os.getpid()}")
    part.write_bytes(data)
    os.replace(part, path)


class DirectoryResultCache:
    """Encoded per-layer results under ``root``: one directory per diff_id, one file per (name, version).

    ``filename(name, version)`` names the file; decoding is the caller's.
    """

    def __init__(self, root: Path, filename: FileName = versioned_name) -> None:
        self.root = Path(root)
        self._filename = filename

    def path(self, diff_id: str, name: str, version: Version) -> Path:
        """Where the result of (diff_id, name, version) is kept."""
        return self.root / diff_id.replace(":", "_") / self._filename(name, version)

    def read(self, diff_id: str, name: str, version: Version) -> bytes | None:
        """The stored bytes, or None when there are none."""
        try:
            return self.path(diff_id, name, version).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, diff_id: str, name: str, version: Version, data: bytes) -> None:
        """Store ``data`` for (diff_id, name, version), replacing earlier bytes atomically."""
        write_atomic(self.path(diff_id, name, version), data)

    def _pair(self, digest: str, diff_id: str) -> Path:
        return self.root / "_verified" / f"{digest}_{diff_id}".replace(":", "_").replace("/", "_")

    async def verified(self, digest: str, diff_id: str) -> bool:
        """Whether the blob ``digest`` was seen to decompress to ``diff_id`` (see ``layers.diffid``)."""
        return self._pair(digest, diff_id).is_file()

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        """Record that the blob ``digest`` decompresses to ``diff_id`` (checked while it was read)."""
        write_atomic(self._pair(digest, diff_id), b"")
