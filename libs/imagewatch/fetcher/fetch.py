"""Fetching an image: resolve a reference to platform images and put new layer blobs away.

Shared by the fetcher service and the one-shot ``imagewatch scan``. Only this
module (through :class:`~imagewatch.oci.RegistryClient`) ever sees
registry credentials.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import aiohttp

from imagewatch.runtime.blobstore import BlobStore
from imagewatch.config import FetcherConfig
from imagewatch.oci import RegistryClient, RegistryLimits, Reference, ResolvedImage
from imagewatch.oci.egress import EgressPolicy, client_session, policy_for


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


def credentials_table(config: FetcherConfig, use_docker_config: bool = True) -> dict[str, tuple[str, str]]:
    """Credentials per registry host: the config first, then ``~/.docker/config.json``."""
    table = docker_config_credentials() if use_docker_config else {}
    for cred in config.credentials:
        table[cred.host] = (cred.username, cred.password)
    return table


def credentials_lookup(config: FetcherConfig, use_docker_config: bool = True) -> Callable[[str], tuple[str, str] | None]:
    """Credentials per registry host, as a lookup function."""
    return credentials_table(config, use_docker_config).get


def egress_policy(config: FetcherConfig, credential_hosts: Iterable[str] = (),
                  trusted: Iterable[str] = ()) -> EgressPolicy:
    """The egress policy of the fetcher section: insecure registries, credential hosts, allowed globs.

    ``trusted`` adds exact hosts (``imagewatch scan`` trusts the registry its user named).
    """
    hosts = {c.host for c in config.credentials} | set(credential_hosts)
    return policy_for(config.insecure_registries, hosts,
                      [*config.allowed_registries, *(glob.escape(h) for h in trusted)])


def session_for(policy: EgressPolicy) -> aiohttp.ClientSession:
    """An aiohttp session whose name resolution obeys ``policy`` (see :mod:`imagewatch.oci.egress`)."""
    return client_session(policy)


def make_client(session: aiohttp.ClientSession, config: FetcherConfig,
                use_docker_config: bool = True, trusted: Iterable[str] = ()) -> RegistryClient:
    """A registry client configured from the fetcher section, under its egress policy."""
    limits = RegistryLimits(max_manifest_bytes=config.max_manifest_bytes, max_blob_bytes=config.max_blob_bytes)
    table = credentials_table(config, use_docker_config)
    return RegistryClient(session, insecure_registries=set(config.insecure_registries),
                          credentials=table.get, limits=limits,
                          egress=egress_policy(config, table, trusted))


def authorized_client(session: aiohttp.ClientSession, config: FetcherConfig, host: str,
                      authorization: str) -> RegistryClient:
    """A client for one pull with an ``Authorization`` handed over for ``host`` (Harbor's scan token).

    ``Basic`` credentials answer the registry's challenge (token exchange or
    Basic) for that host only; a ``Bearer`` token is sent as is. Other hosts
    get the configured credentials; an empty authorization pulls anonymously.
    """
    import base64

    limits = RegistryLimits(max_manifest_bytes=config.max_manifest_bytes, max_blob_bytes=config.max_blob_bytes)
    configured = credentials_lookup(config, use_docker_config=False)
    scheme, _, value = authorization.partition(" ")
    preset = None
    credentials = configured
    if scheme.lower() == "bearer":
        preset = (host, authorization)
    elif scheme.lower() == "basic":
        user, _, password = base64.b64decode(value).decode().partition(":")
        credentials = lambda h: (user, password) if h == host else configured(h)  # noqa: E731
    else:
        credentials = lambda h: None if h == host else configured(h)  # noqa: E731
    return RegistryClient(session, insecure_registries=set(config.insecure_registries),
                          credentials=credentials, limits=limits, preset_authorization=preset)


async def resolve(client: RegistryClient, reference: Reference, platforms: list[str]) -> list[ResolvedImage]:
    """The platform images of ``reference`` with verified manifests and configs."""
    selection = "all" if platforms == ["all"] else platforms
    return await client.pull_images(reference, selection)


async def store_layers(client: RegistryClient, image: ResolvedImage, wanted: set[str],
                       blobs: BlobStore, concurrency: int = 4, tmp_dir: Path | None = None) -> list[str]:
    """Download the layers whose blob digest is in ``wanted`` (unless stored) into the blob store.

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

    todo = [layer for layer in image.layers if layer.digest in wanted]
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
