"""Per-layer result caches keyed by (diff_id, scanner version): the Protocol and two small ones."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import msgspec

from imagewatch.runtime.layercache import DirectoryResultCache
from imagewatch.secrets.layer import LayerSecrets

_NAME = "secrets"


class SecretLayerCache(Protocol):
    """Where scanned layers' ``LayerSecrets`` are kept, by layer diff_id and scanner version.

    A result counts only for a (blob digest, diff_id) pair ``verified`` before;
    ``mark_verified`` follows a read that checked the content against the diff_id.
    """

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        """The cached result, or None."""
        ...

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        """Cache a result (idempotent)."""
        ...

    async def verified(self, digest: str, diff_id: str) -> bool:
        """Whether blob ``digest`` was checked to decompress to ``diff_id``."""
        ...

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        """Record that blob ``digest`` was checked to decompress to ``diff_id``."""
        ...


class NoSecretCache:
    """A cache that keeps nothing: every layer is read."""

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        """Always a miss."""
        return None

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        """Keep nothing."""
        return None

    async def verified(self, digest: str, diff_id: str) -> bool:
        """Never: every layer is read and checked."""
        return False

    async def mark_verified(self, digest: str, diff_id: str) -> None:
        """Keep nothing."""
        return None


def _file_name(name: str, version: str) -> str:
    tag = hashlib.sha256(version.encode()).hexdigest()[:16]
    return f"{name}-{tag}.json"


class DirectorySecretCache(DirectoryResultCache):
    """A cache in a directory: one JSON file per (diff_id, version)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, _file_name)

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        """The cached result, or None when missing or unreadable."""
        data = self.read(diff_id, _NAME, version)
        if data is None:
            return None
        try:
            return msgspec.json.decode(data, type=LayerSecrets)
        except msgspec.DecodeError:
            return None

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        """Cache a result (idempotent), replacing the file atomically."""
        self.write(diff_id, _NAME, version, msgspec.json.encode(result))
