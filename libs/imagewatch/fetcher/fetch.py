"""Fetching an image: resolve a reference to platform images and put new layer blobs away.

Shared by the fetcher service and the one-shot ``imagewatch scan``. Only this
module (through :class:`~imagewatch.oci.RegistryClient`) ever sees
registry credentials.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import aiohttp

from imagewatch.runtime.blobstore import BlobStore
from imagewatch.config import FetcherConfig
from imagewatch.oci import RegistryClient, RegistryLimits, Reference, ResolvedImage


def docker_config_credentials(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """``auths`` entries of ``~/.docker/config.json`` as host → (user, password)."""
    import base64

    path = path or Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, tuple[str, str]] = {}
    for host, entry in (doc.get("auths") or {}).items():
        auth = entry.get("auth") if isinstance(entry, dict) else None
        if not auth:
            continue
        user, _, password = base64.b64decode(auth).decode(errors="replace").partition(":")
        host = host.removeprefix("https://").removeprefix("http://").split("/")[0]
        if host in ("index.docker.io", "registry-1.docker.io"):
            host = "docker.io"
        out[host] = (user, password)
    return out


def credentials_lookup(config: FetcherConfig, use_docker_config: bool = True) -> Callable[[str], tuple[str, str] | None]:
    """Credentials per registry host: the config first, then ``~/.docker/config.json``."""
    table = docker_config_credentials() if use_docker_config else {}
    for cred in config.credentials:
        table[cred.host] = (cred.username, cred.password)
    return table.get


def make_client(session: aiohttp.ClientSession, config: FetcherConfig,
                use_docker_config: bool = True, *, insecure: bool = False,
                login: tuple[str, str] | None = None) -> RegistryClient:
    """A registry client configured from the fetcher section.

    ``insecure`` (``--insecure``) skips certificate checks and falls back to
    plain HTTP for hosts whose HTTPS port speaks no TLS; ``login`` (``--username``
    / ``--password``) is used for every host before any other credentials.
    """
    limits = RegistryLimits(max_manifest_bytes=config.max_manifest_bytes, max_blob_bytes=config.max_blob_bytes)
    lookup = credentials_lookup(config, use_docker_config)
    credentials = (lambda host: login) if login else lookup
    return RegistryClient(session, insecure_registries=set(config.insecure_registries),
                          credentials=credentials, limits=limits, insecure=insecure)


async def resolve(client: RegistryClient, reference: Reference, platforms: list[str]) -> list[ResolvedImage]:
    """The platform images of ``reference`` with verified manifests and configs."""
    selection = "all" if platforms == ["all"] else platforms
    return await client.pull_images(reference, selection)


async def store_layers(client: RegistryClient, image: ResolvedImage, wanted: set[str],
                       blobs: BlobStore, concurrency: int = 4, tmp_dir: Path | None = None) -> list[str]:
    """Download the layers whose diff_id is in ``wanted`` (unless stored) into the blob store.

    Every blob is verified against its digest while streaming. Returns the
    diff_ids now available in the store for analysis.
    """
    sem = asyncio.Semaphore(max(1, concurrency))
    ready: list[str] = []

    async def one(layer) -> None:
        if not await blobs.has(layer.digest):
            async with sem:
                with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="iw-blob-") as d:
                    path = Path(d) / "blob"
                    await client.get_blob(image.reference, layer.digest, path, size=layer.size)
                    await blobs.put_file(layer.digest, path)
        ready.append(layer.diff_id)

    todo = [layer for layer in image.layers if layer.diff_id in wanted]
    await asyncio.gather(*(one(layer) for layer in todo))
    order = {layer.diff_id: i for i, layer in enumerate(image.layers)}
    return sorted(set(ready), key=order.__getitem__)


async def store_bytes(blobs: BlobStore, digest: str, data: bytes) -> None:
    """Put a small verified blob (an image config) in the blob store unless it is there."""
    if await blobs.has(digest):
        return
    with tempfile.TemporaryDirectory(prefix="iw-blob-") as d:
        path = Path(d) / "blob"
        path.write_bytes(data)
        await blobs.put_file(digest, path)
