"""Content-addressed blob store for layer bytes: NATS Object Store or a directory.

Layer bytes travel through here, never through messages. Keys are digests
(``sha256:<hex>``); every read is verified against the key, so a corrupted or
truncated blob is an error, not silent garbage. The Object Store bucket has a
TTL; the directory variant serves when every stage runs on one machine.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
from pathlib import Path
from typing import Protocol

from nats.js import api
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError

from imagewatch.config import BlobStoreConfig
from imagewatch.errors import ImagewatchError
from imagewatch.runtime.replicas import align_stream


class BlobError(ImagewatchError):
    """blobstore: base error."""


class BlobMissing(BlobError):
    """blobstore: the blob is not (or no longer) in the store."""


class BlobStoreFull(BlobError):
    """blobstore: no space (or quota) left where blobs are written; retried once space returns."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class BlobCorrupt(BlobError):
    """blobstore: the stored bytes do not match their digest."""


class BlobStore(Protocol):
    """Where layer blobs are put by the fetcher and read by inventory and secrets."""

    async def has(self, digest: str) -> bool:
        """Whether the blob is stored."""
        ...

    async def put_file(self, digest: str, path: Path) -> None:
        """Store the file at ``path`` under ``digest`` (already verified by the caller)."""
        ...

    async def get_file(self, digest: str, path: Path) -> None:
        """Write the blob to ``path``, verifying it against ``digest``."""
        ...

    async def prepare(self) -> None:
        """Make the store ready at service start (create it, apply its settings)."""
        ...


def _verify_file(digest: str, path: Path) -> None:
    algo, _, expected = digest.partition(":")
    if algo != "sha256":
        raise BlobError(f"blobstore: unsupported digest algorithm in {digest}")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    if h.hexdigest() != expected:
        raise BlobCorrupt(f"blobstore: content of {digest} does not match its digest (got sha256:{h.hexdigest()})")


class DirectoryBlobStore:
    """Blobs as files under a directory, named by digest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        return self.root / digest.replace(":", "_")

    async def prepare(self) -> None:
        """Nothing to prepare: the directory exists."""

    async def has(self, digest: str) -> bool:
        return self._path(digest).exists()

    async def put_file(self, digest: str, path: Path) -> None:
        target = self._path(digest)
        tmp = target.with_suffix(".part" + str(os.getpid()))
        try:
            await asyncio.to_thread(shutil.copyfile, path, tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno in _FULL:
                raise BlobStoreFull(f"blobstore: no space left in {self.root} for {digest} "
                                    f"({os.strerror(exc.errno)})") from None
            raise
        os.replace(tmp, target)

    async def get_file(self, digest: str, path: Path) -> None:
        source = self._path(digest)
        if not source.exists():
            raise BlobMissing(f"blobstore: {digest} not found")
        await asyncio.to_thread(shutil.copyfile, source, path)
        await asyncio.to_thread(_verify_file, digest, path)


class NatsBlobStore:
    """Blobs in a JetStream Object Store bucket with a TTL, kept on ``replicas`` nodes."""

    def __init__(self, js, config: BlobStoreConfig, replicas: int = 1) -> None:
        self.js = js
        self.config = config
        self.replicas = replicas
        self._store = None

    async def _bucket(self):
        if self._store is None:
            try:
                store = await self.js.object_store(self.config.bucket)
                # created earlier, maybe with another replica count: its stream follows the config
                await align_stream(self.js, f"OBJ_{self.config.bucket}", self.replicas)
            except (BucketNotFoundError, NotFoundError):
                store = await self.js.create_object_store(
                    self.config.bucket,
                    config=api.ObjectStoreConfig(ttl=self.config.ttl_hours * 3600, replicas=self.replicas),
                )
            self._store = store
        return self._store

    async def prepare(self) -> None:
        """Create the bucket, or bring an existing one to the configured replica count."""
        await self._bucket()

    async def has(self, digest: str) -> bool:
        store = await self._bucket()
        try:
            await store.get_info(digest)
            return True
        except ObjectNotFoundError:
            return False

    async def put_file(self, digest: str, path: Path) -> None:
        store = await self._bucket()
        with open(path, "rb") as f:
            await store.put(digest, f)

    async def get_file(self, digest: str, path: Path) -> None:
        store = await self._bucket()
        try:
            with open(path, "wb") as f:
                await store.get(digest, writeinto=f)
        except ObjectNotFoundError:
            raise BlobMissing(f"blobstore: {digest} not found") from None
        await asyncio.to_thread(_verify_file, digest, path)


def open_blob_store(config: BlobStoreConfig, js=None, data_dir: Path | None = None,
                    replicas: int = 1) -> BlobStore:
    """The configured blob store: ``nats`` needs ``js`` (its bucket on ``replicas`` nodes); ``directory`` a path."""
    if config.kind == "nats":
        if js is None:
            raise BlobError("blobstore: the nats blob store needs a JetStream context")
        return NatsBlobStore(js, config, replicas)
    root = Path(config.directory) if config.directory else (data_dir or Path(".")) / "blobs"
    return DirectoryBlobStore(root)
