"""What ``imagewatch scan`` looks at: a registry image, an OCI layout or a docker archive.

``open_target`` yields one ``TargetImage`` whatever the kind: its identity, its
config bytes, its layers and ``blob(layer)``, the path of the layer's verified
blob. Registry layers are downloaded on first ask into a temporary directory
(verified while streaming, at most ``concurrency`` at once); local layers are
checked against their digest on first ask. Layers whose results are cached are
never asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from imagewatch.config import FetcherConfig
from imagewatch.oci.local import (MAX_ARCHIVE_BYTES, LocalImage, LocalImageError, open_docker_archive,
                                  open_oci_layout)
from imagewatch.models import LayerRef
from imagewatch.oci import (AuthError, InvalidReference, NoMatchingPlatform, NotFound, Reference, RegistryError,
                       ResolvedImage)
from imagewatch.scan.errors import EXIT_FAILED, EXIT_USAGE, ScanError
from imagewatch.scan.progress import Progress

# Registry errors that mean "this target does not exist or is not yours", not "the scan broke".
_TARGET_ERRORS = (InvalidReference, NotFound, AuthError, NoMatchingPlatform)


@dataclass
class TargetImage:
    """One image to scan; ``blob(layer)`` returns the path of that layer's verified blob."""

    reference: str
    digest: str
    platform: str
    config_data: bytes
    layers: list[LayerRef]
    blob: Callable[[LayerRef], Awaitable[Path]]


def parse_target(text: str) -> tuple[str, str]:
    """``(kind, rest)`` with kind ``registry``, ``oci`` or ``docker-archive``."""
    for prefix in ("oci:", "docker-archive:"):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            if not rest:
                raise ScanError(f"scan: {text!r}: name a path after {prefix}", EXIT_USAGE)
            return prefix[:-1], rest
    if not text.strip():
        raise ScanError("scan: empty target", EXIT_USAGE)
    return "registry", text


def _one(images: list, target: str) -> object:
    if len(images) != 1:
        raise ScanError(f"scan: {target} holds {len(images)} images; choose one "
                        f"(--platform, or oci:DIR:tag)", EXIT_USAGE)
    return images[0]


class _Downloads:
    """Registry layer blobs, each downloaded once into ``directory``."""

    def __init__(self, client, image: ResolvedImage, directory: Path, concurrency: int,
                 progress: Progress) -> None:
        self.client, self.image, self.directory, self.progress = client, image, directory, progress
        self._sem = asyncio.Semaphore(max(1, concurrency))
        self._tasks: dict[str, asyncio.Task] = {}

    async def _download(self, layer: LayerRef) -> Path:
        path = self.directory / layer.digest.replace(":", "_")
        async with self._sem:
            try:
                size = await self.client.get_blob(self.image.reference, layer.digest, path, size=layer.size)
            except RegistryError as exc:
                raise ScanError(f"scan: layer {layer.digest}: {exc}", EXIT_FAILED) from None
        self.progress.add_fetched(size)
        return path

    async def blob(self, layer: LayerRef) -> Path:
        if layer.digest not in self._tasks:
            self._tasks[layer.digest] = asyncio.ensure_future(self._download(layer))
        return await asyncio.shield(self._tasks[layer.digest])

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()


ClientFactory = Callable[[list[str]], contextlib.AbstractAsyncContextManager]
"""``factory(trusted_hosts)`` → an async context manager yielding a ``RegistryClient``."""


def _default_client(fetcher: FetcherConfig) -> ClientFactory:
    @contextlib.asynccontextmanager
    async def factory(trusted: list[str]):
        from imagewatch.fetcher import fetch

        policy = fetch.egress_policy(fetcher, fetch.credential_hosts(fetcher), trusted)
        async with fetch.session_for(policy, trust_env=True) as session:
            yield fetch.make_client(session, fetcher, use_docker_config=True, trusted=trusted)
    return factory


@contextlib.asynccontextmanager
async def _registry(text: str, platform: str, fetcher: FetcherConfig, tmp_dir: Path,
                    progress: Progress, client_factory: ClientFactory | None) -> AsyncIterator[TargetImage]:
    from imagewatch.fetcher import fetch
    try:
        reference = Reference.parse(text)
    except InvalidReference as exc:
        raise ScanError(f"scan: {exc}", EXIT_USAGE) from None
    # the registry the user named on the command line is theirs to reach; redirects and
    # token realms it sends still pass the egress policy
    trusted = [reference.api_host]
    async with (client_factory or _default_client(fetcher))(trusted) as client:
        try:
            images = await fetch.resolve(client, reference, [platform])
        except _TARGET_ERRORS as exc:
            raise ScanError(f"scan: {reference}: {exc}", EXIT_USAGE) from None
        except RegistryError as exc:
            raise ScanError(f"scan: {reference}: {exc}", EXIT_FAILED) from None
        image = _one(images, text)
        downloads = _Downloads(client, image, tmp_dir, fetcher.concurrency, progress)
        try:
            yield TargetImage(reference=text, digest=image.digest, platform=image.platform,
                              config_data=image.config_data, layers=image.layers, blob=downloads.blob)
        finally:
            downloads.cancel()


def _local_blob(image: LocalImage, progress: Progress) -> Callable[[LayerRef], Awaitable[Path]]:
    done: dict[str, Path] = {}

    async def blob(layer: LayerRef) -> Path:
        if layer.digest not in done:
            try:
                done[layer.digest] = await asyncio.to_thread(image.layer_path, layer)
            except LocalImageError as exc:
                raise ScanError(f"scan: {exc}", EXIT_FAILED) from None
            progress.add_fetched(done[layer.digest].stat().st_size)
        return done[layer.digest]
    return blob


@contextlib.asynccontextmanager
async def _local(kind: str, rest: str, platform: str, tmp_dir: Path,
                 progress: Progress, max_archive_bytes: int) -> AsyncIterator[TargetImage]:
    try:
        if kind == "oci":
            images = await asyncio.to_thread(open_oci_layout, rest, [platform])
        else:
            images = await asyncio.to_thread(open_docker_archive, rest, tmp_dir, max_bytes=max_archive_bytes)
    except LocalImageError as exc:
        raise ScanError(f"scan: {exc}", EXIT_USAGE) from None
    try:
        image: LocalImage = _one(images, f"{kind}:{rest}")  # type: ignore[assignment]
        yield TargetImage(reference=image.reference, digest=image.digest, platform=image.platform,
                          config_data=image.config_data, layers=image.layers,
                          blob=_local_blob(image, progress))
    finally:
        for image in images:
            image.close()


def open_target(text: str, *, platform: str, fetcher: FetcherConfig, tmp_dir: Path,
                progress: Progress, max_archive_bytes: int = MAX_ARCHIVE_BYTES,
                client_factory: ClientFactory | None = None,
                ) -> contextlib.AbstractAsyncContextManager[TargetImage]:
    """The image ``text`` names, open until the block ends; raises ``ScanError`` (exit 2 or 3).

    A docker archive that would extract to more than ``max_archive_bytes`` is
    refused. ``client_factory(trusted_hosts)`` makes the registry client
    (``--insecure``, ``--username``); by default one from the fetcher settings
    and ``~/.docker/config.json``, under the egress policy.
    """
    kind, rest = parse_target(text)
    if kind == "registry":
        return _registry(rest, platform, fetcher, tmp_dir, progress, client_factory)
    return _local(kind, rest, platform, tmp_dir, progress, max_archive_bytes)
