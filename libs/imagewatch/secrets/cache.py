"""Per-layer result caches keyed by (diff_id, scanner version): the Protocol and two small ones."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

import msgspec

from imagewatch.secrets.layer import LayerSecrets


class SecretLayerCache(Protocol):
    """Where scanned layers' ``LayerSecrets`` are kept, by layer diff_id and scanner version."""

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        """The cached result, or None."""
        ...

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        """Cache a result (idempotent)."""
        ...


class NoSecretCache:
    """A cache that keeps nothing: every layer is read."""

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        return None

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        return None


class DirectorySecretCache:
    """A cache in a directory: one JSON file per (diff_id, version)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, diff_id: str, version: str) -> Path:
        tag = hashlib.sha256(version.encode()).hexdigest()[:16]
        return self.root / diff_id.replace(":", "_") / f"secrets-{tag}.json"

    async def load(self, diff_id: str, version: str) -> LayerSecrets | None:
        try:
            return msgspec.json.decode(self._path(diff_id, version).read_bytes(), type=LayerSecrets)
        except (FileNotFoundError, msgspec.DecodeError):
            return None

    async def store(self, diff_id: str, version: str, result: LayerSecrets) -> None:
        path = self._path(diff_id, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".part{os.getpid()}")
        part.write_bytes(msgspec.json.encode(result))
        os.replace(part, path)
